# Console du personnel : les comptes du personnel (administrateurs seulement) et les
# abonnés d'une commune. Pour le personnel ; jamais montré aux citoyens.

console-nav-accounts = Comptes du personnel
console-nav-subscribers = Abonnés
console-login-disabled = Ce compte a été désactivé par un administrateur. Adressez-vous à un administrateur pour le réactiver.
console-language-it = italien
console-language-fr = français
console-channel-whatsapp = WhatsApp
console-channel-telegram = Telegram
console-channel-web = simulateur web

## Comptes du personnel.

console-accounts-title = Comptes du personnel
console-accounts-intro = Les opérateurs travaillent seulement pour les communes indiquées ; les administrateurs voient toutes les communes et gèrent les comptes. Chaque modification est inscrite au journal des activités.
console-accounts-all-comuni = toutes les communes
console-accounts-role = Rôle
console-accounts-comuni = Communes
console-accounts-comuni-hint = Au moins une pour un opérateur ; aucune n'est nécessaire pour un administrateur.
console-accounts-state = État
console-accounts-state-active = actif
console-accounts-state-disabled = désactivé
console-accounts-state-pending = en attente de la première connexion
console-accounts-state-locked = bloqué jusqu'à { $until } après trop de tentatives
console-accounts-last-login = Dernière connexion
console-accounts-never = jamais
console-accounts-created = Créé le
console-accounts-manage = Gestion du compte { $email }
console-accounts-back = Retour aux comptes du personnel
console-accounts-back-account = Retour au compte
console-accounts-add = Nouveau compte
console-accounts-email = Adresse e-mail
console-accounts-language = Langue de la console
console-accounts-add-hint = Un mot de passe à usage unique, valable 7 jours, sera affiché une seule fois : communiquez-le à votre collègue, qui choisira son propre mot de passe à la première connexion.
console-accounts-add-button = Créer le compte
console-accounts-change = Rôle et communes
console-accounts-save = Enregistrer le rôle et les communes
console-accounts-reset = Mot de passe oublié
console-accounts-reset-hint = Crée un mot de passe à usage unique valable 24 heures, affiché une seule fois ; à la première connexion, votre collègue choisira un nouveau mot de passe. Le mot de passe actuel reste valable jusque-là.
console-accounts-reset-button = Créer un mot de passe à usage unique
console-accounts-access = Accès
console-accounts-disable-hint = Un compte désactivé ne peut plus se connecter et ses sessions ouvertes prennent fin aussitôt. Il reste dans le journal des activités et peut être réactivé.
console-accounts-disable-button = Désactiver le compte
console-accounts-enable-hint = Le compte est désactivé : une fois réactivé, votre collègue pourra de nouveau se connecter avec son mot de passe.
console-accounts-enable-button = Réactiver le compte
console-accounts-remove = Suppression
console-accounts-remove-hint = La suppression est définitive ; pour suspendre l'accès, il vaut mieux désactiver le compte.
console-accounts-remove-confirm = Je confirme la suppression définitive de { $email }
console-accounts-remove-button = Supprimer le compte
console-accounts-own = C'est votre compte : vous ne pouvez pas le désactiver, le supprimer ni lui retirer le rôle d'administrateur ici. Demandez-le à un autre administrateur.
console-accounts-last-admin = C'est le dernier administrateur actif : ajoutez ou réactivez d'abord un autre administrateur.
console-accounts-unknown-comune = L'une des communes indiquées n'est pas servie par cette installation.
console-accounts-invalid-email = L'adresse e-mail n'est pas valide.
console-accounts-exists = Un compte existe déjà avec cette adresse e-mail.
console-accounts-no-comune = Un opérateur doit travailler pour au moins une commune.
console-accounts-one-time-title = Mot de passe à usage unique pour { $email }
console-accounts-one-time-added = Compte { $email } créé. Voici son mot de passe à usage unique :
console-accounts-one-time-reset = Mot de passe à usage unique créé pour { $email } :
console-accounts-one-time-hint = Il n'est affiché que maintenant et n'est pas conservé : copiez-le et communiquez-le à votre collègue par un canal sûr. Il vaut pour une seule connexion, jusqu'à { $until } ; un nouveau mot de passe sera ensuite demandé.
console-done-staff-add = Compte créé.
console-done-staff-change = Rôle et communes enregistrés.
console-done-staff-disable = Compte désactivé : ses sessions ont pris fin.
console-done-staff-enable = Compte réactivé.
console-done-staff-remove = Compte supprimé.

## Abonnés d'une commune.

console-subscribers-title = Abonnés · { $comune }
console-subscribers-months = Inscriptions et désinscriptions par mois
console-subscribers-now = Abonnés aujourd'hui : { $count }
console-subscribers-months-none = Aucune inscription ni désinscription enregistrée jusqu'ici.
console-subscribers-month = Mois
console-subscribers-joined = Inscriptions
console-subscribers-left = Désinscriptions
console-subscribers-month-name = { $month ->
        [m01] janvier
        [m02] février
        [m03] mars
        [m04] avril
        [m05] mai
        [m06] juin
        [m07] juillet
        [m08] août
        [m09] septembre
        [m10] octobre
        [m11] novembre
        [m12] décembre
       *[other] { $month }
    } { $year }
console-subscribers-filters = Filtres
console-subscribers-any = Tous
console-subscribers-apply = Filtrer
console-subscribers-status = État
console-subscribers-status-subscribed = abonné
console-subscribers-status-registering = inscription en cours
console-subscribers-status-new = premier contact
console-subscribers-status-unsubscribed = désinscrit
console-subscribers-status-blocked = bloqué
console-subscribers-category = Catégories
console-subscribers-language = Langue
console-subscribers-channel = Canal
console-subscribers-number = Numéro
console-subscribers-since = Abonné depuis le
console-subscribers-list = Liste
console-subscribers-count = Citoyens trouvés : { $count } ; page { $page } sur { $pages }. Les numéros sont masqués.
console-subscribers-previous = Page précédente
console-subscribers-next = Page suivante
console-subscribers-pages = Pages de la liste
console-subscribers-unmasked = Avec les numéros complets (administrateurs seulement ; à traiter comme des données personnelles)
console-subscribers-csv = Télécharger la liste
console-subscribers-csv-hint = Le fichier CSV contient les citoyens qui correspondent aux filtres. Le téléchargement est inscrit au journal des activités.
console-subscribers-csv-button = Télécharger en CSV
console-accounts-incomplete = Le formulaire est incomplet : indiquez le rôle et, pour supprimer un compte, confirmez la suppression.
