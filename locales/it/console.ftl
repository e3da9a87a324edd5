# Staff console (/staff): login, the home page of the comuni an account may see, and each
# comune's page. Staff-facing; the citizen never sees these.

console-brand = sportello · console del personale
console-language = Lingua
console-login-title = Accesso del personale
console-login-intro = Accedi con l'e-mail e la password del tuo account.
console-email = E-mail
console-password = Password
console-login-submit = Accedi
console-login-failed = E-mail o password non corrette.
console-login-locked = Troppi tentativi non riusciti: l'account è bloccato fino alle { $until }. Riprova più tardi o rivolgiti a un amministratore.
console-signed-in = Accesso come { $email } ({ $role })
console-role-operator = operatore
console-role-admin = amministratore
console-logout = Esci
console-home-title = I tuoi comuni
console-home-none = Nessun comune è assegnato a questo account. Rivolgiti a un amministratore.
console-subscribers = Iscritti: { $count }
console-pending = Segnalazioni di moderazione in attesa: { $count }
console-comune-title = { $comune }: segnalazioni in attesa
console-cases-none = Nessuna segnalazione di moderazione in attesa.
console-case-detail = Ricevuto il { $at } da { $number } ({ $channel })
console-back = Torna ai tuoi comuni
console-error-title = Errore
console-error-forbidden = Questo account non può vedere questa pagina.
console-error-csrf = Il modulo è scaduto o non è valido: ricarica la pagina e riprova.
console-error-not-found = Pagina non trovata.
console-error-internal = Si è verificato un errore. Riprova tra poco.

## Broadcasts (issue #5)
console-broadcast-list-title = Messaggi broadcast
console-broadcast-new = Nuovo messaggio broadcast
console-broadcast-none = Nessun messaggio broadcast finora.
console-broadcast-category = Categoria
console-broadcast-progress = Avanzamento
console-broadcast-figures-title = Consegna
console-broadcast-figures = { $recipients } destinatari: { $queued } in coda, { $sent } inviati, { $delivered } consegnati, { $read } letti, { $failed } non riusciti
console-broadcast-finish = Fine prevista: { $at }
console-broadcast-scheduled = Programmato per il { $at }
console-broadcast-done = Concluso il { $at }
console-broadcast-preparing = In preparazione
console-broadcast-resend = Invia di nuovo ai non riusciti
console-broadcast-text = Testo ({ $language })
console-broadcast-media = Immagine o breve video (indirizzo https)
console-broadcast-at = Invio programmato (vuoto: subito)
console-broadcast-preview = Anteprima
console-broadcast-send = Invia
console-broadcast-template = Fuori dalla finestra di 24 ore di WhatsApp si invia il modello approvato «{ $name }» con questo testo.
console-broadcast-no-template = Nessun modello WhatsApp per questa lingua: chi non scrive da più di 24 ore non può riceverlo.
