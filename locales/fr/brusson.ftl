# Brusson — "Procédure opérationnelle : listes de diffusion WhatsApp" (French side).

brusson-region = Région autonome Vallée d'Aoste
brusson-name = Commune de Brusson
brusson-category-info = Info Commune
brusson-category-eventi = Événements et activités
brusson-category-emergenze = Urgences (Protection civile)
brusson-subscribed = Inscription confirmée aux listes WhatsApp de la { $comune }. Vous recevrez en mode diffusion : Info Commune, Événements et activités, Urgences (Protection civile). Aucun inscrit ne voit le numéro ni les données des autres.
    Confidentialité : en vous inscrivant, vous avez consenti au traitement de votre numéro pour ce service, selon la notice publiée sur { $website } (écrivez { $privacy } pour un résumé).
    Pour vous désinscrire, écrivez { $unsubscribe } : votre numéro sera supprimé définitivement. Pour suspendre la réception, il suffit de retirer le numéro de la Commune de votre répertoire.
    Per ricevere i messaggi in italiano, scriva ITALIANO.
brusson-unsubscribed = Désinscription effectuée : votre numéro a été supprimé définitivement de la liste des inscrits et vous ne recevrez plus de messages. Pour vous réinscrire, écrivez { $subscribe }.
brusson-other = Ce numéro de la { $comune } sert uniquement aux messages d'information et n'accepte que les messages d'inscription et de désinscription : il ne répond ni aux messages ni aux appels.
    Pour vous inscrire, écrivez { $subscribe } ; pour vous désinscrire, { $unsubscribe }. Pour toute autre demande : { $email }, tél. { $phone }.
    Per l'italiano, scriva ITALIANO.
brusson-privacy = Note sur la confidentialité (version { $version }). Responsable du traitement : { $comune }, { $office }. Le numéro de téléphone et les coordonnées sont traités uniquement pour l'envoi des messages d'information par WhatsApp, par les opérateurs chargés et autorisés, en mode diffusion : aucun inscrit ne peut connaître les autres inscrits ni leurs données. L'inscription vaut consentement explicite au traitement. À la désinscription, le numéro est supprimé définitivement. Notice complète sur { $website } ; contacts { $email }, PEC { $pec }.
brusson-about = Messages d'information de la Commune en mode diffusion : Info Commune (services communaux, interruptions, questions d'intérêt général), Événements et activités, Urgences (Protection civile). Aucun inscrit ne voit le numéro ni les données des autres.
