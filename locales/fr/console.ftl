# Console du personnel (/staff) : connexion, page d'accueil des communes visibles par un
# compte et page de chaque commune. Pour le personnel ; jamais montré aux citoyens.

console-brand = sportello · console du personnel
console-language = Langue
console-login-title = Connexion du personnel
console-login-intro = Connectez-vous avec l'adresse e-mail et le mot de passe de votre compte.
console-email = Adresse e-mail
console-password = Mot de passe
console-login-submit = Se connecter
console-login-failed = Adresse e-mail ou mot de passe incorrect.
console-login-locked = Trop de tentatives échouées : le compte est bloqué jusqu'à { $until }. Réessayez plus tard ou adressez-vous à un administrateur.
console-signed-in = Connecté en tant que { $email } ({ $role })
console-role-operator = opérateur
console-role-admin = administrateur
console-logout = Se déconnecter
console-home-title = Vos communes
console-home-none = Aucune commune n'est attribuée à ce compte. Adressez-vous à un administrateur.
console-subscribers = Abonnés : { $count }
console-pending = Signalements de modération en attente : { $count }
console-comune-title = { $comune } : signalements en attente
console-cases-none = Aucun signalement de modération en attente.
console-case-detail = Reçu le { $at } de { $number } ({ $channel })
console-back = Retour à vos communes
console-error-title = Erreur
console-error-forbidden = Ce compte ne peut pas voir cette page.
console-error-csrf = Le formulaire a expiré ou n'est pas valide : rechargez la page et réessayez.
console-error-not-found = Page introuvable.
console-error-internal = Une erreur s'est produite. Réessayez dans un instant.

## Administrative pages: navigation, audit log, password, FAQ, closures, privacy, report.

console-nav-label = Menu du personnel
console-nav-comune-label = Pages de { $comune }
console-nav-home = Vos communes
console-nav-audit = Journal des activités
console-nav-password = Changer le mot de passe
console-nav-faq = Questions fréquentes
console-nav-closures = Fermetures exceptionnelles
console-nav-report = Rapport annuel
console-nav-privacy = Données d'un citoyen
console-audit-title = Journal des activités
console-audit-filters = Filtres
console-audit-any = Toutes
console-audit-comune = Commune
console-audit-action = Action
console-audit-actor = Auteur
console-audit-at = Date et heure
console-audit-detail = Détail
console-audit-apply = Filtrer
console-audit-count = { $count } entrées ; page { $page } sur { $pages }.
console-audit-csv = Télécharger en CSV
console-audit-none = Aucune entrée ne correspond aux filtres.
console-audit-pages = Pages du journal
console-audit-newer = Plus récentes
console-audit-older = Plus anciennes
console-password-title = Changer le mot de passe
console-password-intro = Après le changement, seules les pages de ce navigateur restent ouvertes : les autres connexions de ce compte sont fermées.
console-password-current = Mot de passe actuel
console-password-new = Nouveau mot de passe
console-password-hint = Au moins { $min } caractères.
console-password-repeat = Répétez le nouveau mot de passe
console-password-submit = Changer le mot de passe
console-password-wrong = Le mot de passe actuel est incorrect.
console-password-short = Le nouveau mot de passe doit comporter au moins { $min } caractères.
console-password-mismatch = Les deux nouveaux mots de passe ne correspondent pas.
console-password-unchanged = Le nouveau mot de passe doit être différent de l'actuel.
console-password-changed = Mot de passe changé. Connexions fermées sur d'autres appareils : { $ended }.
