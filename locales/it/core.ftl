# Messages the engine sends for every comune, in Italian.
# Implicit arguments (from the flow): $comune, $subscribe, $unsubscribe, $privacy, $mydata,
# $operator, $version, $min_age, $days and the flow's contacts ($email, $phone, $pec, …).

## Registration steps

ask-full-name = Scriva il suo nome e cognome, ad esempio: Mario Rossi.
ask-first-name = Per iniziare, scriva il suo nome.
ask-last-name = Ora scriva il suo cognome.
ask-birth-place = Scriva il suo luogo di nascita.
ask-birth-date = Scriva la sua data di nascita, ad esempio 12/03/1980.
ask-accept-privacy = Accetta l'informativa sul trattamento dei dati personali? Risponda SÌ per accettare oppure NO per rinunciare.

## Answers that cannot be accepted (the step is asked again)

invalid-name = Questo non sembra un nome: usi solo lettere, spazi, apostrofi e trattini.
invalid-name-empty = Il nome non può essere vuoto.
invalid-name-numeric = Un nome non può contenere numeri.
invalid-name-too-long = Il nome è troppo lungo: al massimo 80 caratteri.
invalid-full-name-one-word = Servono sia il nome sia il cognome, ad esempio: Mario Rossi.
invalid-place = Il luogo di nascita può contenere solo lettere, spazi, apostrofi e trattini.
invalid-place-empty = Il luogo di nascita non può essere vuoto.
invalid-date-format = Non riesco a leggere la data. La scriva come giorno/mese/anno, ad esempio 12/03/1980.
invalid-date-impossible = Questa data non esiste nel calendario: controlli il giorno e il mese.
invalid-date-future = La data di nascita non può essere nel futuro.
invalid-date-too-old = La data sembra troppo lontana nel tempo: controlli l'anno.
under-age = Il servizio è riservato a chi ha compiuto { $min_age } anni.
consent-required = Senza il consenso non è possibile completare l'iscrizione. Se cambia idea, scriva { $subscribe }.
please-answer-yes-no = Risponda SÌ oppure NO.

## Defaults of the flow's message roles (a flow may override each)

subscribed = Iscrizione completata: riceverà i messaggi di { $comune }. Per cancellarsi scriva { $unsubscribe }.
unsubscribed = La sua iscrizione è stata cancellata: non riceverà più messaggi da { $comune }. Per iscriversi di nuovo scriva { $subscribe }.
already-subscribed = Risulta già iscritto/a al servizio di { $comune }. Per cancellarsi scriva { $unsubscribe }.
not-subscribed = Questo numero non risulta iscritto al servizio. Per iscriversi scriva { $subscribe }.
other = Questo numero non risponde ai messaggi. Per iscriversi scriva { $subscribe }, per cancellarsi { $unsubscribe }. Per altre richieste scriva a { $email }.
welcome = Benvenuto/a nel servizio WhatsApp di { $comune }.
registered = Grazie, i suoi dati sono stati registrati.
offer-subscribe = Se desidera ricevere anche le comunicazioni di { $comune }, scriva { $subscribe }.
question-received = Abbiamo ricevuto la sua domanda: le risponderemo al più presto.
please-write-text = Scriva la sua richiesta come testo, per favore: non possiamo leggere foto, audio, video o documenti.
blocked = Questo numero è stato bloccato perché ha violato le regole del servizio. Può comunque cancellarsi scrivendo { $unsubscribe }.
greeting = Buongiorno! Scriva pure la sua domanda e le risponderemo.

## Language, help, data

language-set = D'accordo, le scriveremo in italiano.
keyword-ambiguous = Non ho capito se desidera iscriversi o cancellarsi. Scelga qui sotto, oppure scriva { $subscribe } o { $unsubscribe }.
operator-requested = Ho passato la conversazione a un operatore, che le risponderà appena possibile.
operator-requested-due = Ho passato la conversazione a un operatore: le risponderà entro il { $deadline_date } alle { $deadline_time }.
my-data = Dati conservati dal { $comune } su questo numero. Stato: { $status }. Lingua: { $language }. Consensi registrati: { $consents }. Primo contatto: { $since }.
my-data-field = { $label }: { $value }
language-called-it = italiano
language-called-fr = francese
field-full_name = Nome e cognome
field-first_name = Nome
field-last_name = Cognome
field-birth_place = Luogo di nascita
field-birth_date = Data di nascita
status-new = non iscritto
status-registering = iscrizione in corso
status-subscribed = iscritto
status-unsubscribed = iscrizione cancellata
status-blocked = bloccato

## Buttons

button-yes = Sì
button-no = No
button-subscribe = Iscrivimi
button-unsubscribe = Cancellami
list-label = Opzioni
about = { $comune } su WhatsApp.

## Moderation (the comune's rules; $rule is one of the rule-* messages)

moderation-withheld = Il suo messaggio non è stato inoltrato perché viola le regole del servizio: { $rule }. { $strikes_left ->
        [1] Alla prossima violazione il numero sarà bloccato.
       *[other] Dopo altre { $strikes_left } violazioni il numero sarà bloccato.
    }
moderation-blocked = Il suo messaggio viola le regole del servizio ({ $rule }): questo numero è stato bloccato e non riceverà risposte. Può comunque cancellarsi scrivendo { $unsubscribe }.
rule-illegal = promozione o sostegno di attività illegali
rule-vulgar = linguaggio offensivo o scurrile
rule-defamation = diffamazione
rule-threat = minaccia
rule-personal-data = diffusione di dati personali di terzi
rule-personal-attack = attacco personale
rule-hate = offesa verso gruppi etnici, politici, religiosi o minoranze
privacy-notice-updated = L'informativa privacy di { $comune } è cambiata (versione { $version }). Eccola: continuando a usare il servizio la accetta; per cancellarsi scriva { $unsubscribe }.

## Answers from the comune's FAQ ($answer and $link are the comune's own text)

faq-answer = { $answer }
    Se la risposta non basta, scriva { $operator } e le risponderà una persona.
faq-answer-link = { $answer }
    Per saperne di più: { $link }
    Se la risposta non basta, scriva { $operator } e le risponderà una persona.
faq-choices = Forse cerca una di queste risposte: scelga qui sotto, oppure riformuli la domanda.
faq-out-of-scope = { $redirect }
faq-suggestions = Intanto, forse le è utile una di queste risposte: può sceglierla qui sotto.
faq-contacts = Se preferisce, può anche rivolgersi direttamente all'ufficio{ $phone ->
        [none] {""}
       *[other] , telefono { $phone }
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

    Per non ricevere più questi messaggi scriva { $unsubscribe }.
broadcast-message-one-list = 📢 { $comune }

    { $text }

    Per non ricevere più questi messaggi scriva { $unsubscribe }.

## Understanding what the citizen wrote (leaving, joining, refusals, desk courtesies)

leave-confirm = { $comune }: vuole annullare la Sua iscrizione? Tocchi «Sì, mi cancello» per confermare, oppure scriva { $unsubscribe }.
button-leave-confirm = Sì, mi cancello
button-leave-keep = No, resto iscritto
leave-kept = D'accordo: la Sua iscrizione resta attiva.
unsubscribe-negated = D'accordo: la Sua iscrizione resta attiva. Se in futuro vorrà cancellarsi, scriva { $unsubscribe }.
subscribe-negated = D'accordo, non La iscriviamo. Se cambia idea, scriva { $subscribe }.
subscribe-offer = { $comune }: per iscriversi tocchi il pulsante qui sotto, oppure scriva { $subscribe }.
desk-thanks = Prego! Se ha bisogno d'altro, scriva pure.
desk-about-bot = Sono un assistente automatico, non una persona: rispondo alle domande frequenti e passo le altre all'ufficio, che Le risponderà di persona. Per parlare subito con un operatore scriva { $operator }.
invalid-name-sentence = Questa sembra una frase, non un nome: scriva solo il nome, senza altre parole.
