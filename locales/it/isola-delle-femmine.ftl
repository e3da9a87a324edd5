# Isola delle Femmine — "I Servizi Demografici su WhatsApp". Text drawn from the comune's notice.

isola-delle-femmine-region = Regione Siciliana
isola-delle-femmine-name = Comune di Isola delle Femmine
isola-delle-femmine-subscribed = Benvenuto/a nei "Servizi Demografici su WhatsApp" del { $comune }! L'iscrizione è attiva: riceverà qui le principali notizie su servizi e iniziative dei Servizi Demografici. Non deve rispondere a questo messaggio.
    Con l'iscrizione ha dichiarato di aver compiuto { $min_age } anni e di accettare la policy e l'informativa privacy (scriva { $privacy } per leggerla). Può cancellarsi in ogni momento scrivendo { $unsubscribe }.
isola-delle-femmine-already-subscribed = Risulta già iscritto/a ai "Servizi Demografici su WhatsApp". Per cancellarsi scriva { $unsubscribe }.
isola-delle-femmine-unsubscribed = La sua iscrizione ai "Servizi Demografici su WhatsApp" è stata cancellata e il suo numero è stato rimosso. Per iscriversi di nuovo scriva { $subscribe }.
isola-delle-femmine-other = Questo numero invia solo messaggi informativi dei Servizi Demografici e non risponde ai messaggi. Per informazioni e segnalazioni restano attivi i canali tradizionali:
    Ufficio: { $office }
    Telefono: { $phone }
    E-mail: { $email }
    PEC: { $pec }
    Per iscriversi scriva { $subscribe }, per cancellarsi { $unsubscribe }.
isola-delle-femmine-privacy = Informativa privacy (art. 13 Regolamento UE 2016/679), versione del { $version }.
    Titolare del trattamento: { $comune } (tel. { $phone }, e-mail { $email }, PEC { $pec }).
    Finalità: invio di messaggi informativi sui servizi demografici comunali agli iscritti ai "Servizi Demografici su WhatsApp", sulla base del consenso (art. 6 par. 1 lett. a del Regolamento).
    Il conferimento del numero è obbligatorio per ricevere il servizio. I dati possono essere trattati da soggetti privati nominati responsabili del trattamento e non sono soggetti a diffusione; non c'è alcun processo decisionale automatizzato.
    Conservazione: fino alla richiesta di cancellazione dal servizio; la cancellazione non pregiudica la liceità del trattamento precedente.
    Diritti: accesso, rettifica, limitazione, aggiornamento, cancellazione, portabilità e opposizione, rivolgendosi al Titolare o al Responsabile della protezione dei dati ai contatti indicati; reclamo al Garante per la protezione dei dati personali.
    Possono iscriversi solo persone che abbiano compiuto { $min_age } anni.
isola-delle-femmine-about = I "Servizi Demografici su WhatsApp": messaggi con le principali notizie su servizi e iniziative dei Servizi Demografici del Comune di Isola delle Femmine. Il servizio è gratuito; possono iscriversi tutti coloro che abbiano compiuto { $min_age } anni. I messaggi arrivano in modalità broadcast: nessuno vede i contatti degli altri.
