# The audit log as staff read it (issue 22): a name for each action code the service
# writes, and the stored details it recognizes, in words. The stored detail itself stays
# shown under these (old entries are never rewritten).

console-audit-any-action = Tutte
console-audit-action-label = Descrizione dell'azione
console-audit-stored = Dettaglio registrato

console-audit-action-login = Accesso
console-audit-action-login-failed = Accesso non riuscito
console-audit-action-lockout = Blocco dell'accesso
console-audit-action-logout = Uscita
console-audit-action-password-change = Password cambiata
console-audit-action-password-change-failed = Cambio della password non riuscito
console-audit-action-staff-bootstrap = Primo amministratore creato
console-audit-action-staff-add = Account creato
console-audit-action-staff-change = Account modificato
console-audit-action-staff-disable = Account disattivato
console-audit-action-staff-enable = Account riattivato
console-audit-action-staff-reset = Password temporanea rilasciata
console-audit-action-staff-remove = Account eliminato
console-audit-action-staff-code = Codice monouso rilasciato
console-audit-action-claim = Conversazione presa in carico
console-audit-action-reply = Risposta inviata
console-audit-action-note = Nota interna
console-audit-action-release = Conversazione rimessa in coda
console-audit-action-close = Conversazione chiusa
console-audit-action-block = Cittadino bloccato
console-audit-action-unblock = Cittadino sbloccato
console-audit-action-find-citizen = Ricerca di un numero
console-audit-action-show-number = Numero mostrato per intero
console-audit-action-export = Esportazione dei dati di un cittadino
console-audit-action-erase = Cancellazione dei dati di un cittadino
console-audit-action-retention = Dati oscurati a fine conservazione
console-audit-action-subscribers-export = Esportazione degli iscritti
console-audit-action-broadcast-create = Diffusione creata
console-audit-action-broadcast-console = Diffusione creata dalla console
console-audit-action-broadcast-resend-failed = Diffusione: nuovo invio dei messaggi non consegnati
console-audit-action-broadcast-paused = Diffusione sospesa
console-audit-action-faq-add = Risposta frequente aggiunta
console-audit-action-faq-edit = Risposta frequente modificata
console-audit-action-faq-delete = Risposta frequente eliminata
console-audit-action-closure-add = Chiusura dell'ufficio aggiunta
console-audit-action-closure-remove = Chiusura dell'ufficio tolta
console-audit-action-media-upload = File caricato
console-audit-action-moderation-confirm = Moderazione: segnalazione confermata
console-audit-action-moderation-dismiss = Moderazione: segnalazione respinta
console-audit-action-moderation-report = Moderazione: trasmessa alle autorità

console-audit-detail-logged-in = Accesso con la propria password.
console-audit-detail-one-time-login = Accesso con una password monouso.
console-audit-detail-wrong-password = Rifiutato: password errata.
console-audit-detail-unknown-email = Rifiutato: indirizzo e-mail sconosciuto.
console-audit-detail-account-locked = Rifiutato: account bloccato.
console-audit-detail-address-locked = Rifiutato: troppi tentativi da questo indirizzo di rete.
console-audit-detail-account-disabled = Rifiutato: account disattivato.
console-audit-detail-wrong-current = Rifiutato: password attuale errata.
console-audit-detail-broadcast = Diffusione n. { $id }.
console-audit-detail-requeued = Diffusione n. { $id }: { $count } messaggi di nuovo in coda.
console-audit-detail-case = Caso di moderazione n. { $id }.
console-audit-detail-sessions-ended = Altre sessioni chiuse: { $count }.
console-audit-detail-rows-exported = Righe esportate: { $count }, numeri { $numbers ->
    [full] per intero
   *[masked] mascherati
}.
console-audit-detail-day = Giorno: { $date }.
console-audit-detail-faq-entry = Voce «{ $id }» ({ $lang }).
console-audit-detail-added-admin = { $email }, amministratore.
console-audit-detail-added-operator = { $email }, operatore di { $comuni }.
console-audit-detail-account = Account: { $email }.
console-audit-action-identity-link = Identificativo WhatsApp collegato al numero
console-audit-action-identity-change = Identificativo WhatsApp cambiato
