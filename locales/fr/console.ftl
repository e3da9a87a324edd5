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

## Broadcasts (issue #5)
console-broadcast-list-title = Messages de diffusion
console-broadcast-new = Nouveau message de diffusion
console-broadcast-none = Aucun message de diffusion pour l'instant.
console-broadcast-category = Catégorie
console-broadcast-progress = Avancement
console-broadcast-figures-title = Remise
console-broadcast-figures = { $recipients } destinataires : { $queued } en attente, { $sent } envoyés, { $delivered } remis, { $read } lus, { $failed } en échec
console-broadcast-finish = Fin prévue : { $at }
console-broadcast-scheduled = Programmé pour le { $at }
console-broadcast-done = Terminé le { $at }
console-broadcast-preparing = En préparation
console-broadcast-resend = Renvoyer aux échecs
console-broadcast-text = Texte ({ $language })
console-broadcast-media = Image ou courte vidéo (adresse https)
console-broadcast-at = Envoi programmé (vide : tout de suite)
console-broadcast-preview = Aperçu
console-broadcast-send = Envoyer
console-broadcast-template = Hors de la fenêtre de 24 heures de WhatsApp, le modèle approuvé « { $name } » est envoyé avec ce texte.
console-broadcast-no-template = Aucun modèle WhatsApp pour cette langue : qui n'a pas écrit depuis plus de 24 heures ne peut pas le recevoir.
