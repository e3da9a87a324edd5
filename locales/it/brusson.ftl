# Brusson — "Procedura operativa: liste broadcast di WhatsApp" (Italian side).

brusson-region = Regione Autonoma Valle d'Aosta
brusson-name = Comune di Brusson
brusson-category-info = Info Comune
brusson-category-eventi = Eventi e attività
brusson-category-emergenze = Emergenze (Protezione Civile)
brusson-subscribed = Iscrizione confermata alle liste WhatsApp del { $comune }. Riceverà in modalità broadcast: Info Comune, Eventi e attività, Emergenze (Protezione Civile). Nessun iscritto vede il numero o i dati degli altri.
    Privacy: iscrivendosi ha dato il consenso al trattamento del suo numero per questo servizio, secondo l'informativa pubblicata su { $website } (scriva { $privacy } per una sintesi).
    Per cancellarsi scriva { $unsubscribe }: il numero sarà cancellato definitivamente. Per sospendere la ricezione basta togliere il numero del Comune dalla rubrica.
    Pour recevoir les messages en français, écrivez FRANÇAIS.
brusson-unsubscribed = Cancellazione completata: il suo numero è stato cancellato definitivamente dall'elenco degli iscritti e non riceverà più messaggi. Per iscriversi di nuovo scriva { $subscribe }.
brusson-other = Questo numero del { $comune } serve solo per i messaggi informativi e accetta unicamente messaggi di iscrizione e cancellazione: non risponde a messaggi né a chiamate.
    Per iscriversi scriva { $subscribe }, per cancellarsi { $unsubscribe }. Per altre richieste: { $email }, tel. { $phone }.
    Pour le français, écrivez FRANÇAIS.
brusson-privacy = Nota sulla privacy (versione { $version }). Titolare: { $comune }, { $office }. Il numero di telefono e i dati di contatto sono trattati esclusivamente per l'invio dei messaggi informativi via WhatsApp, dagli operatori incaricati e autorizzati, in modalità broadcast: nessun iscritto può conoscere gli altri iscritti né i loro dati. L'iscrizione costituisce esplicito consenso al trattamento. Con la cancellazione il numero è eliminato definitivamente. Informativa completa su { $website }; contatti { $email }, PEC { $pec }.
brusson-about = Messaggi informativi del Comune in modalità broadcast: Info Comune (servizi comunali, disservizi, questioni di interesse generale), Eventi e attività, Emergenze (Protezione Civile). Nessun iscritto vede il numero o i dati degli altri.
