# The audit log as staff read it (issue 22): a name for each action code the service
# writes, and the stored details it recognizes, in words. The stored detail itself stays
# shown under these (old entries are never rewritten).

console-audit-any-action = Toutes
console-audit-action-label = Libellé de l'action
console-audit-stored = Détail enregistré

console-audit-action-login = Connexion
console-audit-action-login-failed = Connexion refusée
console-audit-action-lockout = Blocage de l'accès
console-audit-action-logout = Déconnexion
console-audit-action-password-change = Mot de passe modifié
console-audit-action-password-change-failed = Modification du mot de passe refusée
console-audit-action-staff-bootstrap = Premier administrateur créé
console-audit-action-staff-add = Compte créé
console-audit-action-staff-change = Compte modifié
console-audit-action-staff-disable = Compte désactivé
console-audit-action-staff-enable = Compte réactivé
console-audit-action-staff-reset = Mot de passe temporaire délivré
console-audit-action-staff-remove = Compte supprimé
console-audit-action-staff-code = Code à usage unique délivré
console-audit-action-claim = Conversation prise en charge
console-audit-action-reply = Réponse envoyée
console-audit-action-note = Note interne
console-audit-action-release = Conversation remise en file
console-audit-action-close = Conversation close
console-audit-action-block = Citoyen bloqué
console-audit-action-unblock = Citoyen débloqué
console-audit-action-find-citizen = Recherche d'un numéro
console-audit-action-show-number = Numéro affiché en entier
console-audit-action-export = Exportation des données d'un citoyen
console-audit-action-erase = Effacement des données d'un citoyen
console-audit-action-retention = Données masquées en fin de conservation
console-audit-action-subscribers-export = Exportation des inscrits
console-audit-action-broadcast-create = Diffusion créée
console-audit-action-broadcast-console = Diffusion créée depuis la console
console-audit-action-broadcast-resend-failed = Diffusion : nouvel envoi des messages non remis
console-audit-action-broadcast-paused = Diffusion suspendue
console-audit-action-faq-add = Réponse fréquente ajoutée
console-audit-action-faq-edit = Réponse fréquente modifiée
console-audit-action-faq-delete = Réponse fréquente supprimée
console-audit-action-closure-add = Fermeture du bureau ajoutée
console-audit-action-closure-remove = Fermeture du bureau retirée
console-audit-action-media-upload = Fichier téléversé
console-audit-action-moderation-confirm = Modération : signalement confirmé
console-audit-action-moderation-dismiss = Modération : signalement écarté
console-audit-action-moderation-report = Modération : transmis aux autorités

console-audit-detail-logged-in = Connexion avec son mot de passe.
console-audit-detail-one-time-login = Connexion avec un mot de passe à usage unique.
console-audit-detail-wrong-password = Refusé : mot de passe erroné.
console-audit-detail-unknown-email = Refusé : adresse électronique inconnue.
console-audit-detail-account-locked = Refusé : compte bloqué.
console-audit-detail-address-locked = Refusé : trop de tentatives depuis cette adresse réseau.
console-audit-detail-account-disabled = Refusé : compte désactivé.
console-audit-detail-wrong-current = Refusé : mot de passe actuel erroné.
console-audit-detail-broadcast = Diffusion n° { $id }.
console-audit-detail-requeued = Diffusion n° { $id } : { $count } messages de nouveau en file.
console-audit-detail-case = Cas de modération n° { $id }.
console-audit-detail-sessions-ended = Autres sessions fermées : { $count }.
console-audit-detail-rows-exported = Lignes exportées : { $count }, numéros { $numbers ->
    [full] en entier
   *[masked] masqués
}.
console-audit-detail-day = Jour : { $date }.
console-audit-detail-faq-entry = Entrée « { $id } » ({ $lang }).
console-audit-detail-added-admin = { $email }, administrateur.
console-audit-detail-added-operator = { $email }, opérateur de { $comuni }.
console-audit-detail-account = Compte : { $email }.
console-audit-action-identity-link = Identifiant WhatsApp lié au numéro
console-audit-action-identity-change = Identifiant WhatsApp changé
