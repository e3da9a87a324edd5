# Console del personale: gli account del personale (solo amministratori) e gli iscritti di
# un comune. Per il personale; mai mostrato ai cittadini.

console-nav-accounts = Account del personale
console-nav-subscribers = Iscritti
console-login-disabled = Questo account è stato disattivato da un amministratore. Si rivolga a un amministratore per riattivarlo.
console-language-it = italiano
console-language-fr = francese
console-channel-whatsapp = WhatsApp
console-channel-telegram = Telegram
console-channel-web = simulatore web

## Account del personale.

console-accounts-title = Account del personale
console-accounts-intro = Gli operatori lavorano solo per i comuni indicati; gli amministratori vedono ogni comune e gestiscono gli account. Ogni modifica è registrata nel registro delle attività.
console-accounts-all-comuni = tutti i comuni
console-accounts-role = Ruolo
console-accounts-comuni = Comuni
console-accounts-comuni-hint = Per un operatore almeno uno; per un amministratore non servono.
console-accounts-state = Stato
console-accounts-state-active = attivo
console-accounts-state-disabled = disattivato
console-accounts-state-pending = in attesa del primo accesso
console-accounts-state-locked = bloccato fino alle { $until } dopo troppi tentativi
console-accounts-last-login = Ultimo accesso
console-accounts-never = mai
console-accounts-created = Creato il
console-accounts-manage = Gestione dell'account { $email }
console-accounts-back = Torna agli account del personale
console-accounts-back-account = Torna all'account
console-accounts-add = Nuovo account
console-accounts-email = Indirizzo e-mail
console-accounts-language = Lingua della console
console-accounts-add-hint = Verrà mostrata una sola volta una password monouso, valida 7 giorni: la comunichi al collega, che al primo accesso sceglierà una password propria.
console-accounts-add-button = Creare l'account
console-accounts-change = Ruolo e comuni
console-accounts-save = Salvare ruolo e comuni
console-accounts-reset = Password dimenticata
console-accounts-reset-hint = Crea una password monouso valida 24 ore, mostrata una sola volta; al primo accesso il collega sceglierà una nuova password. La password attuale resta valida finché non la cambia.
console-accounts-reset-button = Creare una password monouso
console-accounts-access = Accesso
console-accounts-disable-hint = Un account disattivato non può accedere e le sue sessioni aperte terminano subito. Resta nel registro delle attività e può essere riattivato.
console-accounts-disable-button = Disattivare l'account
console-accounts-enable-hint = L'account è disattivato: riattivandolo, il collega potrà di nuovo accedere con la sua password.
console-accounts-enable-button = Riattivare l'account
console-accounts-remove = Rimozione
console-accounts-remove-hint = La rimozione è definitiva; per sospendere l'accesso è preferibile disattivare l'account.
console-accounts-remove-confirm = Confermo la rimozione definitiva di { $email }
console-accounts-remove-button = Rimuovere l'account
console-accounts-own = Questo è il Suo account: non può disattivarlo, rimuoverlo né togliergli il ruolo di amministratore da qui. Lo chieda a un altro amministratore.
console-accounts-last-admin = È l'ultimo amministratore attivo: prima aggiunga o riattivi un altro amministratore.
console-accounts-unknown-comune = Uno dei comuni indicati non è servito da questa installazione.
console-accounts-invalid-email = L'indirizzo e-mail non è valido.
console-accounts-exists = Esiste già un account con questo indirizzo e-mail.
console-accounts-no-comune = Un operatore deve lavorare per almeno un comune.
console-accounts-one-time-title = Password monouso per { $email }
console-accounts-one-time-added = Account { $email } creato. Questa è la sua password monouso:
console-accounts-one-time-reset = Password monouso creata per { $email }:
console-accounts-one-time-hint = Viene mostrata solo ora e non è conservata: la copi e la comunichi al collega per un canale sicuro. Vale per un solo accesso, fino alle { $until }; poi verrà chiesta una nuova password.
console-done-staff-add = Account creato.
console-done-staff-change = Ruolo e comuni salvati.
console-done-staff-disable = Account disattivato: le sue sessioni sono terminate.
console-done-staff-enable = Account riattivato.
console-done-staff-remove = Account rimosso.

## Iscritti di un comune.

console-subscribers-title = Iscritti · { $comune }
console-subscribers-months = Iscrizioni e cancellazioni per mese
console-subscribers-now = Iscritti oggi: { $count }
console-subscribers-months-none = Nessuna iscrizione o cancellazione registrata finora.
console-subscribers-month = Mese
console-subscribers-joined = Iscrizioni
console-subscribers-left = Cancellazioni
console-subscribers-month-name = { $month ->
        [m01] gennaio
        [m02] febbraio
        [m03] marzo
        [m04] aprile
        [m05] maggio
        [m06] giugno
        [m07] luglio
        [m08] agosto
        [m09] settembre
        [m10] ottobre
        [m11] novembre
        [m12] dicembre
       *[other] { $month }
    } { $year }
console-subscribers-filters = Filtri
console-subscribers-any = Tutti
console-subscribers-apply = Filtrare
console-subscribers-status = Stato
console-subscribers-status-subscribed = iscritto
console-subscribers-status-registering = registrazione in corso
console-subscribers-status-new = primo contatto
console-subscribers-status-unsubscribed = cancellato
console-subscribers-status-blocked = bloccato
console-subscribers-category = Categorie
console-subscribers-language = Lingua
console-subscribers-channel = Canale
console-subscribers-number = Numero
console-subscribers-since = Iscritto dal
console-subscribers-list = Elenco
console-subscribers-count = Cittadini trovati: { $count }; pagina { $page } di { $pages }. I numeri sono mascherati.
console-subscribers-previous = Pagina precedente
console-subscribers-next = Pagina successiva
console-subscribers-pages = Pagine dell'elenco
console-subscribers-csv = Scaricare l'elenco
console-subscribers-csv-hint = Il file CSV contiene i cittadini che corrispondono ai filtri. Lo scaricamento è registrato nel registro delle attività.
console-subscribers-unmasked = Con i numeri completi (solo amministratori; li tratti come dati personali)
console-subscribers-csv-button = Scaricare in CSV
console-accounts-incomplete = Il modulo è incompleto: indichi il ruolo e, per rimuovere un account, confermi la rimozione.
