# The command line's readable output, for staff at a terminal (formal register):
# `citizen show`, `broadcast send|status|list|resend-failed`, `report`. Scripts and pipes
# get the JSON instead (src/cli/output.rs).

cli-none = —
cli-yes = sì

## citizen show

cli-citizen-title = Cittadino { $citizen } ({ $comune }, { $channel })
cli-citizen-status = Stato
cli-citizen-language = Lingua
cli-citizen-categories = Categorie
cli-citizen-first-seen = Primo contatto
cli-citizen-subscribed-at = Iscrizione
cli-citizen-unsubscribed-at = Cancellazione
cli-citizen-step = Passo in corso
cli-citizen-blocked-reason = Motivo del blocco
cli-citizen-fields = Dati registrati
cli-citizen-consents = Consensi
cli-citizen-consent = { $kind } { $how }, il { $at } (versione dell'informativa { $version })
cli-status-new = nuovo contatto
cli-status-registering = in registrazione
cli-status-subscribed = iscritto
cli-status-unsubscribed = cancellato
cli-status-blocked = bloccato

## broadcasts

cli-broadcast-title = Diffusione n. { $id } ({ $comune })
cli-broadcast-category = Categoria
cli-broadcast-urgent = Urgente
cli-broadcast-state = Stato
cli-broadcast-languages = Lingue
cli-broadcast-media = Allegato
cli-broadcast-send-at = Invio previsto
cli-broadcast-started-at = Inizio dell'invio
cli-broadcast-finished-at = Fine dell'invio
cli-broadcast-recipients = Destinatari
cli-broadcast-queued = In attesa
cli-broadcast-sent = Inviati
cli-broadcast-delivered = Consegnati
cli-broadcast-read = Letti
cli-broadcast-failed = Non riusciti
cli-broadcast-interrupted = Interrotti (tra i non riusciti)
cli-broadcast-skipped = Esclusi (nessun testo nella lingua)
cli-broadcast-templates = Inviati come modello
cli-state-scheduled = programmata
cli-state-fanning-out = in preparazione
cli-state-sending = in invio
cli-state-done = conclusa
cli-media-image = immagine
cli-media-video = video
cli-broadcast-list-empty = Nessuna diffusione.
cli-broadcast-line = n. { $id } · { $comune }{ $category } · { $state } · { $at } · inviati { $sent } su { $total }, non riusciti { $failed }
cli-broadcast-line-category = , categoria { $category }
cli-broadcast-queued-now = Diffusione n. { $id } registrata: { $total ->
    [one] un destinatario
   *[other] { $total } destinatari
}.
cli-broadcast-queued-at = Invio previsto: { $at }.
cli-broadcast-no-server = Nessun server è in esecuzione su questa cartella dati: la diffusione sarà inviata da `sportello serve` al suo avvio.
cli-broadcast-requeued = Diffusione n. { $id }: { $count ->
    [one] un invio rimesso in coda.
   *[other] { $count } invii rimessi in coda.
}
cli-follow-progress = inviati { $sent }, non riusciti { $failed }
cli-follow-scheduled = La diffusione n. { $id } è programmata per il { $at }: l'avanzamento potrà essere seguito da quel momento.

## citizen show: languages and consents in words

cli-language-it = italiano
cli-language-fr = francese
cli-consent-kind-privacy = Informativa sulla privacy accettata
cli-consent-kind-messages = Consenso a ricevere i messaggi
cli-consent-kind-withdrawal = Consenso revocato
cli-consent-how-keyword = con la parola chiave
cli-consent-how-button = con il pulsante
cli-consent-how-text = con un sì scritto
cli-consent-how-one-shot = con il messaggio di registrazione
cli-consent-how-web = dal simulatore web
cli-field-full_name = Nome e cognome
cli-field-first_name = Nome
cli-field-last_name = Cognome
cli-field-birth_place = Luogo di nascita
cli-field-birth_date = Data di nascita
