# Madone — "Comune di Madone - WhatsApp". Text drawn from the comune's notice and policy.

madone-region = Regione Lombardia
madone-name = Comune di Madone
madone-subscribed = Iscrizione al servizio "Comune di Madone - WhatsApp" completata. Riceverà messaggi di testo, anche con immagini e brevi video, in modalità broadcast: nessun utente vede i contatti degli altri.
    Il servizio è unidirezionale: questo numero non risponde a chiamate e messaggi. Ha dichiarato di aver letto e accettato la policy del servizio (scriva { $privacy } per l'informativa). Per cancellarsi scriva { $unsubscribe }.
madone-unsubscribed = La sua iscrizione al servizio "Comune di Madone - WhatsApp" è stata cancellata: non riceverà più messaggi. Come indicato nell'informativa, i dati sono conservati almeno un anno solare e poi oscurati. Per iscriversi di nuovo scriva { $subscribe }.
madone-other = Il servizio "Comune di Madone - WhatsApp" è solo informativo: questo numero non risponde a chiamate e messaggi, anche con foto o video. Per qualsiasi comunicazione restano attivi i canali tradizionali: telefono { $phone }, posta elettronica { $protocol }, segnalazioni on line, social network. In caso di difficoltà con l'iscrizione scriva a { $email }.
    Per iscriversi scriva { $subscribe }, per cancellarsi { $unsubscribe }.
madone-privacy = Informativa sul trattamento dei dati personali (Regolamento UE 2016/679), versione { $version }.
    Titolare: il { $comune } nella persona del Sindaco pro tempore (e-mail { $protocol }, PEC { $pec }, tel. { $phone }). Responsabile della protezione dei dati: PEC { $dpo }.
    Finalità: nuovi canali di informazione, comunicazione e dialogo con i cittadini. Base giuridica: interesse pubblico e interesse legittimo del titolare a gestire i contenuti del servizio.
    Dati trattati: identificazione personale e contatto. I dati non sono ceduti a terzi né trasferiti fuori dallo spazio di applicazione del GDPR.
    Conservazione: almeno un anno solare; poi i dati sono oscurati, conclusi gli utilizzi e i fini statistici interni (report annuale in Amministrazione Trasparente).
    Diritti: accesso, rettifica, cancellazione, limitazione, opposizione, portabilità; revoca del consenso in ogni momento senza pregiudicare la liceità del trattamento precedente; reclamo a un'Autorità di controllo.
madone-about = "Comune di Madone - WhatsApp": messaggi di testo, anche con immagini e brevi video, dal Comune ai cittadini iscritti. Il servizio è gratuito e unidirezionale: il numero non risponde a chiamate e messaggi.
