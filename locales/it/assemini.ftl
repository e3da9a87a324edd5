# Assemini — "U.R.P. su WhatsApp". Text drawn from the comune's notice of 3 September 2018.

assemini-region = Regione Autonoma della Sardegna
assemini-name = Comune di Assemini
assemini-welcome = Benvenuto/a nel servizio WhatsApp dell'Ufficio Relazioni con il Pubblico del { $comune }. Risponde a domande sui servizi comunali e sull'attività amministrativa, entro { $days } giorni lavorativi. Non è il canale per domande ai singoli uffici, segnalazioni o richieste di accesso agli atti.
    Usando il servizio accetta l'informativa privacy (scriva { $privacy } per leggerla). Al primo contatto le chiediamo nome, cognome e data di nascita.
assemini-registered = Grazie, i suoi dati sono stati registrati. Può scrivere qui le sue domande sui servizi comunali.
assemini-offer-subscribe = Desidera ricevere anche informazioni di pubblica utilità e d'emergenza (orari degli uffici, viabilità, scadenze, eventi)? Scriva { $subscribe } per iscriversi alla lista broadcast, nella quale nessun utente vede i contatti altrui. Se preferisce non iscriversi, resteremo comunque a disposizione per le sue domande.
assemini-subscribed = Iscrizione alla lista broadcast del { $comune } completata. Riceverà informazioni di pubblica utilità e d'emergenza. Per cancellarsi in qualsiasi momento scriva { $unsubscribe }.
assemini-unsubscribed = La sua iscrizione è stata cancellata e i suoi dati personali distrutti o resi anonimi, come previsto dall'informativa. Per iscriversi di nuovo scriva { $subscribe }.
assemini-question-received = Abbiamo ricevuto la sua richiesta. L'URP le risponderà entro il { $deadline_date } alle { $deadline_time } (al massimo { $days } giorni lavorativi).
    { $open ->
        [1] L'ufficio è aperto ora: un operatore prenderà in carico la sua richiesta.
       *[0] L'ufficio ora è chiuso e riapre il { $reopen_date } alle { $reopen_time } (dal lunedì al venerdì 8:30-13:00, lunedì e mercoledì anche 16:00-18:00).
    }
assemini-other = Per iscriversi alla lista broadcast scriva { $subscribe }, per cancellarsi { $unsubscribe }. Per altre richieste: { $email }, numero verde { $phone }.
assemini-privacy = Informativa sul trattamento dei dati personali (Regolamento UE 2016/679), versione del { $version }.
    Titolare: { $comune }, Piazza Repubblica, 09032 Assemini; delegato del Titolare ai fini privacy è il Sindaco.
    Finalità: inviare via WhatsApp comunicazioni informative a chi ne fa esplicita richiesta e rispondere alle domande rivolte all'URP, per l'esecuzione di compiti di interesse pubblico, incluse finalità di archiviazione e statistiche. Il conferimento dei dati è obbligatorio: senza non è possibile inviare le informazioni.
    Conservazione: fino alla richiesta di cancellazione; dopo, il dato personale è distrutto o reso anonimo. Per cancellarsi basta scrivere { $unsubscribe }.
    I dati sono trattati da dipendenti del Comune autorizzati e istruiti; non sono trasferiti fuori dall'Unione Europea.
    Diritti (accesso, cancellazione, rettifica, integrazione, limitazione): telefono { $privacy_phone }, posta a Comune di Assemini, piazza Repubblica n. 1, PEC { $pec }. È possibile proporre reclamo all'Autorità di controllo.
assemini-about = L'Ufficio Relazioni con il Pubblico risponde su WhatsApp alle domande sui servizi comunali e sull'attività amministrativa, entro { $days } giorni lavorativi, e invia a chi si iscrive informazioni di pubblica utilità e d'emergenza (orari degli uffici, viabilità, scadenze, eventi). Non è il canale per domande ai singoli uffici, segnalazioni o richieste di accesso agli atti.
