import type { Translations } from '../../messages.ts';
import type { federatedMessages, federatedTexts } from './messages.ts';

export const federatedTranslations: Translations<typeof federatedMessages & typeof federatedTexts> = {
  de: {
    'federated.name': 'ein anderer Anbieter',
    'federated.offer': 'Weiter mit {provider}',
    FEDERATION_UNREACHABLE: '{provider} hat nicht geantwortet. Versuchen Sie es erneut oder kehren Sie zur App zurück.',
    FEDERATION_REFUSED: 'Die Anmeldung bei {provider} wurde nicht abgeschlossen. Versuchen Sie es erneut oder kehren Sie zur App zurück.',
    FEDERATION_BAD_RESPONSE: 'Der Antwort von {provider} konnte nicht vertraut werden, daher sind Sie nicht angemeldet. Versuchen Sie es erneut.',
    FEDERATION_CODE_REFUSED: 'Die Anmeldung bei {provider} konnte nicht abgeschlossen werden (sie wurde vielleicht schon verwendet). Versuchen Sie es erneut.',
    FEDERATION_BAD_ID_TOKEN: 'Die Identität, die {provider} gesendet hat, konnte nicht geprüft werden, daher sind Sie nicht angemeldet. Versuchen Sie es erneut.',
    FEDERATION_STALE: 'Diese Antwort gehört nicht zu dieser Anmeldung (ein alter oder kopierter Link). Beginnen Sie hier neu.',
    FEDERATION_NOT_LINKED: 'Diese Anmeldung ist mit keinem Konto verknüpft. Bitten Sie Ihre Administration, Ihr {provider}-Konto zu verknüpfen, oder kehren Sie zur App zurück.',
    FEDERATION_NAME_TAKEN: 'Für Ihre Anmeldung bei {provider} konnte kein Konto angelegt werden: Der Benutzername ist vergeben. Wenden Sie sich an Ihre Administration.',
    FEDERATION_ACCOUNT_DISABLED: 'Dieses Konto ist deaktiviert. Wenden Sie sich an Ihre Administration.',
    FEDERATION_LINKED: 'Verknüpft: Sie können sich jetzt über diesen Anbieter anmelden.',
    FEDERATION_LINK_TAKEN: 'Dieses Konto beim Anbieter ist bereits mit einem anderen Konto verknüpft. Es wurde nichts geändert.',
    FEDERATION_LINK_FAILED: 'Der Anbieter hat nicht bestätigt, wer Sie sind, daher wurde nichts verknüpft. Versuchen Sie es erneut.',
  },
  fr: {
    'federated.name': 'un autre fournisseur',
    'federated.offer': 'Continuer avec {provider}',
    FEDERATION_UNREACHABLE: '{provider} n’a pas répondu. Réessayez, ou revenez à l’application.',
    FEDERATION_REFUSED: 'La connexion chez {provider} n’a pas abouti. Réessayez, ou revenez à l’application.',
    FEDERATION_BAD_RESPONSE: 'La réponse de {provider} n’est pas digne de confiance : vous n’êtes pas connecté. Réessayez.',
    FEDERATION_CODE_REFUSED: 'La connexion chez {provider} n’a pas pu être terminée (elle a peut-être déjà servi). Réessayez.',
    FEDERATION_BAD_ID_TOKEN: 'L’identité envoyée par {provider} n’a pas pu être vérifiée : vous n’êtes pas connecté. Réessayez.',
    FEDERATION_STALE: 'Cette réponse n’appartient pas à cette connexion (un lien ancien ou copié). Recommencez ici.',
    FEDERATION_NOT_LINKED: 'Cette connexion n’est liée à aucun compte. Demandez à votre administrateur de lier votre compte {provider}, ou revenez à l’application.',
    FEDERATION_NAME_TAKEN: 'Aucun compte n’a pu être créé pour votre connexion {provider} : son nom d’utilisateur est déjà pris. Demandez de l’aide à votre administrateur.',
    FEDERATION_ACCOUNT_DISABLED: 'Ce compte est désactivé. Demandez de l’aide à votre administrateur.',
    FEDERATION_LINKED: 'Lié : vous pouvez désormais vous connecter par ce fournisseur.',
    FEDERATION_LINK_TAKEN: 'Ce compte chez le fournisseur est déjà lié à un autre compte. Rien n’a été modifié.',
    FEDERATION_LINK_FAILED: 'Le fournisseur n’a pas confirmé votre identité : rien n’a été lié. Réessayez.',
  },
};
