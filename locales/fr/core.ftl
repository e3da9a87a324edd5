# Messages the engine sends for every comune, in French (Brusson offers French).
# Implicit arguments as in locales/it/core.ftl.

## Registration steps

ask-full-name = Écrivez votre prénom et votre nom, par exemple : Marie Dupont.
ask-first-name = Pour commencer, écrivez votre prénom.
ask-last-name = Écrivez maintenant votre nom de famille.
ask-birth-place = Écrivez votre lieu de naissance.
ask-birth-date = Écrivez votre date de naissance, par exemple 12/03/1980.
ask-accept-privacy = Acceptez-vous la notice sur le traitement des données personnelles ? Répondez OUI pour accepter ou NON pour renoncer.

## Answers that cannot be accepted (the step is asked again)

invalid-name = Cela ne ressemble pas à un nom : utilisez seulement des lettres, des espaces, des apostrophes et des traits d'union.
invalid-name-empty = Le nom ne peut pas être vide.
invalid-name-numeric = Un nom ne peut pas contenir de chiffres.
invalid-name-too-long = Le nom est trop long : 80 caractères au maximum.
invalid-full-name-one-word = Il faut le prénom et le nom, par exemple : Marie Dupont.
invalid-place = Le lieu de naissance ne peut contenir que des lettres, des espaces, des apostrophes et des traits d'union.
invalid-place-empty = Le lieu de naissance ne peut pas être vide.
invalid-date-format = Je n'arrive pas à lire la date. Écrivez-la sous la forme jour/mois/année, par exemple 12/03/1980.
invalid-date-impossible = Cette date n'existe pas dans le calendrier : vérifiez le jour et le mois.
invalid-date-future = La date de naissance ne peut pas être dans le futur.
invalid-date-too-old = Cette date semble trop ancienne : vérifiez l'année.
under-age = Le service est réservé aux personnes âgées d'au moins { $min_age } ans.
consent-required = Sans votre consentement, l'inscription ne peut pas être complétée. Si vous changez d'avis, écrivez { $subscribe }.
please-answer-yes-no = Répondez OUI ou NON.

## Defaults of the flow's message roles (a flow may override each)

subscribed = Inscription effectuée : vous recevrez les messages de la { $comune }. Pour vous désinscrire, écrivez { $unsubscribe }.
unsubscribed = Votre inscription a été annulée : vous ne recevrez plus de messages de la { $comune }. Pour vous réinscrire, écrivez { $subscribe }.
already-subscribed = Vous êtes déjà inscrit(e) au service de la { $comune }. Pour vous désinscrire, écrivez { $unsubscribe }.
not-subscribed = Ce numéro n'est pas inscrit au service. Pour vous inscrire, écrivez { $subscribe }.
other = Ce numéro ne répond pas aux messages. Pour vous inscrire, écrivez { $subscribe } ; pour vous désinscrire, { $unsubscribe }. Pour toute autre demande, écrivez à { $email }.
welcome = Bienvenue sur le service WhatsApp de la { $comune }.
registered = Merci, vos données ont été enregistrées.
offer-subscribe = Si vous souhaitez aussi recevoir les communications de la { $comune }, écrivez { $subscribe }.
question-received = Nous avons bien reçu votre question : nous vous répondrons dès que possible.
please-write-text = Merci d'écrire votre demande sous forme de texte : nous ne pouvons pas lire les photos, audios, vidéos ou documents.
blocked = Ce numéro a été bloqué pour non-respect des règles du service. Vous pouvez toujours vous désinscrire en écrivant { $unsubscribe }.
greeting = Bonjour ! Écrivez votre question et nous vous répondrons.

## Language, help, data

language-set = Entendu, nous vous écrirons en français.
keyword-ambiguous = Je n'ai pas compris si vous souhaitez vous inscrire ou vous désinscrire. Choisissez ci-dessous, ou écrivez { $subscribe } ou { $unsubscribe }.
operator-requested = J'ai transmis la conversation à un opérateur, qui vous répondra dès que possible.
operator-requested-due = J'ai transmis la conversation à un opérateur : il vous répondra avant le { $deadline_date } à { $deadline_time }.
my-data = Données conservées par la { $comune } pour ce numéro. État : { $status }. Langue : { $language }. Consentements enregistrés : { $consents }. Premier contact : { $since }.
my-data-field = { $label } : { $value }
language-called-it = italien
language-called-fr = français
field-full_name = Prénom et nom
field-first_name = Prénom
field-last_name = Nom
field-birth_place = Lieu de naissance
field-birth_date = Date de naissance
status-new = non inscrit
status-registering = inscription en cours
status-subscribed = inscrit
status-unsubscribed = inscription annulée
status-blocked = bloqué

## Buttons

button-yes = Oui
button-no = Non
button-subscribe = M'inscrire
button-unsubscribe = Me désinscrire
list-label = Choisir
about = La { $comune } sur WhatsApp.

## Moderation (the comune's rules; $rule is one of the rule-* messages)

moderation-withheld = Votre message n'a pas été transmis car il enfreint les règles du service : { $rule }. { $strikes_left ->
        [1] À la prochaine infraction, le numéro sera bloqué.
       *[other] Après { $strikes_left } autres infractions, le numéro sera bloqué.
    }
moderation-blocked = Votre message enfreint les règles du service ({ $rule }) : ce numéro a été bloqué et ne recevra plus de réponses. Vous pouvez toujours vous désinscrire en écrivant { $unsubscribe }.
rule-illegal = promotion ou soutien d'activités illégales
rule-vulgar = langage offensant ou vulgaire
rule-defamation = diffamation
rule-threat = menace
rule-personal-data = diffusion de données personnelles de tiers
rule-personal-attack = attaque personnelle
rule-hate = offense envers des groupes ethniques, politiques, religieux ou des minorités
privacy-notice-updated = La notice de confidentialité de la { $comune } a changé (version { $version }). La voici : en continuant à utiliser le service vous l'acceptez ; pour vous désinscrire, écrivez { $unsubscribe }.

## Answers from the comune's FAQ ($answer and $link are the comune's own text)

faq-answer = { $answer }
    Si la réponse ne suffit pas, écrivez { $operator } et une personne vous répondra.
faq-answer-link = { $answer }
    Pour en savoir plus : { $link }
    Si la réponse ne suffit pas, écrivez { $operator } et une personne vous répondra.
faq-choices = Vous cherchez peut-être l'une de ces réponses : choisissez ci-dessous, ou reformulez votre question.
faq-out-of-scope = { $redirect }
faq-suggestions = En attendant, l'une de ces réponses pourra peut-être vous aider : vous pouvez la choisir ci-dessous.
faq-contacts = Si vous le souhaitez, vous pouvez aussi vous adresser directement au bureau{ $phone ->
        [none] {""}
       *[other] , téléphone { $phone }
    }{ $email ->
        [none] {""}
       *[other] , e-mail { $email }
    }{ $office ->
        [none] {""}
       *[other] , { $office }
    }.

## Broadcasts: the frame around the operator's text (the text itself is the operator's).
broadcast-message = 📢 { $comune } · { $category }

    { $text }

    Pour ne plus recevoir ces messages, écrivez { $unsubscribe }.
broadcast-message-one-list = 📢 { $comune }

    { $text }

    Pour ne plus recevoir ces messages, écrivez { $unsubscribe }.

## Understanding what the citizen wrote (leaving, joining, refusals, desk courtesies)

leave-confirm = { $comune } : voulez-vous annuler votre inscription ? Touchez « Oui, me désinscrire » pour confirmer, ou écrivez { $unsubscribe }.
button-leave-confirm = Oui, me désinscrire
button-leave-keep = Non, rester inscrit
leave-kept = D'accord : votre inscription reste active.
unsubscribe-negated = D'accord : votre inscription reste active. Si vous souhaitez vous désinscrire plus tard, écrivez { $unsubscribe }.
subscribe-negated = D'accord, nous ne vous inscrivons pas. Si vous changez d'avis, écrivez { $subscribe }.
subscribe-offer = { $comune } : pour vous inscrire, touchez le bouton ci-dessous ou écrivez { $subscribe }.
desk-thanks = Je vous en prie ! Si vous avez besoin d'autre chose, écrivez-nous.
desk-about-bot = Je suis un assistant automatique, pas une personne : je réponds aux questions fréquentes et je transmets les autres au bureau, qui vous répondra personnellement. Pour parler directement à un opérateur, écrivez { $operator }.
invalid-name-sentence = Cela ressemble à une phrase, pas à un nom : écrivez seulement le nom, sans autres mots.
