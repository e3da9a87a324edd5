# The command line's readable output, for staff at a terminal (formal register):
# `citizen show`, `broadcast send|status|list|resend-failed`, `report`. Scripts and pipes
# get the JSON instead (src/cli/output.rs).

cli-none = —
cli-yes = oui

## citizen show

cli-citizen-title = Citoyen { $citizen } ({ $comune }, { $channel })
cli-citizen-status = État
cli-citizen-language = Langue
cli-citizen-categories = Catégories
cli-citizen-first-seen = Premier contact
cli-citizen-subscribed-at = Inscription
cli-citizen-unsubscribed-at = Désinscription
cli-citizen-step = Étape en cours
cli-citizen-blocked-reason = Motif du blocage
cli-citizen-fields = Données enregistrées
cli-citizen-consents = Consentements
cli-citizen-consent = { $kind } { $how }, le { $at } (version de la notice { $version })
cli-status-new = nouveau contact
cli-status-registering = inscription en cours
cli-status-subscribed = inscrit
cli-status-unsubscribed = désinscrit
cli-status-blocked = bloqué

## broadcasts

cli-broadcast-title = Diffusion n° { $id } ({ $comune })
cli-broadcast-category = Catégorie
cli-broadcast-urgent = Urgente
cli-broadcast-state = État
cli-broadcast-languages = Langues
cli-broadcast-media = Pièce jointe
cli-broadcast-send-at = Envoi prévu
cli-broadcast-started-at = Début de l'envoi
cli-broadcast-finished-at = Fin de l'envoi
cli-broadcast-recipients = Destinataires
cli-broadcast-queued = En attente
cli-broadcast-sent = Envoyés
cli-broadcast-delivered = Distribués
cli-broadcast-read = Lus
cli-broadcast-failed = Échoués
cli-broadcast-interrupted = Interrompus (parmi les échoués)
cli-broadcast-skipped = Exclus (aucun texte dans la langue)
cli-broadcast-templates = Envoyés comme modèle
cli-state-scheduled = programmée
cli-state-fanning-out = en préparation
cli-state-sending = en cours d'envoi
cli-state-done = terminée
cli-media-image = image
cli-media-video = vidéo
cli-broadcast-list-empty = Aucune diffusion.
cli-broadcast-line = n° { $id } · { $comune }{ $category } · { $state } · { $at } · envoyés { $sent } sur { $total }, échoués { $failed }
cli-broadcast-line-category = , catégorie { $category }
cli-broadcast-queued-now = Diffusion n° { $id } enregistrée : { $total ->
    [one] un destinataire
   *[other] { $total } destinataires
}.
cli-broadcast-queued-at = Envoi prévu : { $at }.
cli-broadcast-no-server = Aucun serveur n'utilise ce dossier de données : la diffusion sera envoyée par `sportello serve` à son démarrage.
cli-broadcast-requeued = Diffusion n° { $id } : { $count ->
    [one] un envoi remis en file d'attente.
   *[other] { $count } envois remis en file d'attente.
}
cli-follow-progress = envoyés { $sent }, échoués { $failed }
cli-follow-scheduled = La diffusion n° { $id } est programmée pour le { $at } : sa progression pourra être suivie à partir de ce moment.

## citizen show : langues et consentements en toutes lettres

cli-language-it = italien
cli-language-fr = français
cli-consent-kind-privacy = Notice de confidentialité acceptée
cli-consent-kind-messages = Consentement à recevoir les messages
cli-consent-kind-withdrawal = Consentement retiré
cli-consent-how-keyword = par le mot-clé
cli-consent-how-button = par le bouton
cli-consent-how-text = par un oui écrit
cli-consent-how-one-shot = par le message d'inscription
cli-consent-how-web = depuis le simulateur web
cli-field-full_name = Nom et prénom
cli-field-first_name = Prénom
cli-field-last_name = Nom
cli-field-birth_place = Lieu de naissance
cli-field-birth_date = Date de naissance
