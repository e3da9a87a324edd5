# Isili — "WhatsApp ISILI". Text drawn from the comune's notice (Delibera G.M. n. 8 del 02.02.2017).

isili-region = Regione Autonoma della Sardegna
isili-name = Comune di Isili
isili-ask-consent-messages = Autorizza la ricezione di messaggi WhatsApp del { $comune } (informazioni di pubblica utilità, scadenze, viabilità, emergenze, eventi)? Risponda SÌ oppure NO.
isili-ask-consent-privacy = Acconsente al trattamento dei suoi dati secondo l'informativa privacy qui sopra? Risponda SÌ oppure NO.
isili-registered = Registrazione a WhatsApp ISILI completata. Riceverà i messaggi del { $comune } in modalità broadcast: nessun altro utente vede il suo numero. Ricordi di salvare il numero { $whatsapp } nella rubrica, altrimenti i messaggi non arrivano.
    Ha dichiarato di aver letto e accettato le linee guida del Comune e l'informativa privacy (scriva { $privacy } per rileggerla). Per cancellarsi scriva { $unsubscribe }.
isili-already-registered = Il suo numero è già registrato a WhatsApp ISILI. Per cancellarsi scriva { $unsubscribe }.
isili-not-registered = Questo numero non risulta registrato a WhatsApp ISILI. Per registrarsi scriva { $subscribe } seguito da: Nome e Cognome - Luogo e data di nascita - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy.
isili-unsubscribed = La sua registrazione a WhatsApp ISILI è stata rimossa e i suoi dati cancellati. Per registrarsi di nuovo scriva { $subscribe }.
isili-other = Il numero WhatsApp ISILI è valido solo per il servizio di informazione e non può ricevere messaggi o telefonate. Per comunicare con il Comune restano attivi lo sportello, il telefono, la posta ordinaria e la posta elettronica. Il servizio è attivo dal lunedì al venerdì ore 9-13, martedì e giovedì anche ore 15-18.
    Per informazioni sul servizio o difficoltà nella registrazione: { $email }.
    Per registrarsi scriva { $subscribe } seguito da: Nome e Cognome - Luogo e data di nascita - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy. Per cancellarsi scriva { $unsubscribe }.
isili-privacy = Informativa sul trattamento dei dati personali (versione { $version }).
    Il titolare del trattamento dei dati personali comunicati dagli utenti è il { $comune }. I dati saranno trattati esclusivamente per l'esecuzione delle operazioni relative al servizio WhatsApp ISILI, con strumenti informatici, telematici o cartacei protetti da misure di sicurezza idonee a garantirne la riservatezza e a evitarne l'accesso a soggetti non autorizzati.
    In qualunque momento l'iscritto può far valere i diritti previsti dalla normativa sulla protezione dei dati personali, scrivendo a { $email }. L'iscrizione al servizio rappresenta esplicita accettazione di questa informativa.
isili-about = WhatsApp ISILI: informazioni di pubblica utilità, scadenze di interesse pubblico, modifiche alla viabilità, stati d'emergenza, iniziative ed eventi sul territorio comunale. Il servizio è attivo dal lunedì al venerdì ore 9-13, martedì e giovedì anche ore 15-18. Per registrarsi invii REGISTRAZIONE seguito da: Nome e Cognome - Luogo e data di nascita - Autorizzo la ricezione di sms WhatsApp - Acconsento Privacy.
