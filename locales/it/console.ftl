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

## Administrative pages: navigation, audit log, password, FAQ, closures, privacy, report.

console-nav-label = Menu del personale
console-nav-comune-label = Pagine di { $comune }
console-nav-home = I tuoi comuni
console-nav-audit = Registro delle attività
console-nav-password = Cambia password
console-nav-faq = Domande frequenti
console-nav-closures = Chiusure straordinarie
console-nav-report = Rapporto annuale
console-nav-privacy = Dati di un cittadino
console-audit-title = Registro delle attività
console-audit-filters = Filtri
console-audit-any = Tutti
console-audit-comune = Comune
console-audit-action = Azione
console-audit-actor = Autore
console-audit-at = Data e ora
console-audit-detail = Dettaglio
console-audit-apply = Filtra
console-audit-count = { $count } voci; pagina { $page } di { $pages }.
console-audit-csv = Scarica in CSV
console-audit-none = Nessuna voce corrisponde ai filtri.
console-audit-pages = Pagine del registro
console-audit-newer = Più recenti
console-audit-older = Meno recenti
console-password-title = Cambia password
console-password-intro = Dopo il cambio restano aperte solo le pagine di questo browser: gli altri accessi con questo account vengono chiusi.
console-password-current = Password attuale
console-password-new = Nuova password
console-password-hint = Almeno { $min } caratteri.
console-password-repeat = Ripeti la nuova password
console-password-submit = Cambia password
console-password-wrong = La password attuale non è corretta.
console-password-short = La nuova password deve avere almeno { $min } caratteri.
console-password-mismatch = Le due nuove password non coincidono.
console-password-unchanged = La nuova password deve essere diversa da quella attuale.
console-password-changed = Password cambiata. Accessi chiusi su altri dispositivi: { $ended }.
