"""The replies written in code, in each supported language (`language.SUPPORTED`): the answer to
a closing, and the holding reply of an account-security incident, whose safe next steps are
those of context/product-docs.md ("If someone else may have access to your account").

Each is an operator-approved notice, like the apology: nothing in it comes from the model, so it
needs no search to stand on. WhatsApp gets the short form (its replies stay under 300
characters with the greeting); email and the web form the full one.
"""

from __future__ import annotations

from typing import Final

_CLOSING_SHORT: Final = {
    "en": "Glad it works now, thanks for letting us know. I've closed this one; message us "
          "any time you need something.",
    "de": "Schön, dass es jetzt klappt, danke für die Rückmeldung. Ich schließe die Anfrage; "
          "schreib uns jederzeit, wenn du etwas brauchst.",
    "es": "Me alegra que ya funcione, gracias por avisarnos. Cierro esta consulta; escríbenos "
          "cuando necesites algo.",
    "fr": "Ravi que cela fonctionne, merci de nous l'avoir dit. Je clôture cette demande ; "
          "écrivez-nous quand vous voulez.",
    "pt": "Que bom que funcionou, obrigado por avisar. Vou encerrar este pedido; fale com a "
          "gente sempre que precisar.",
}
_CLOSING_FULL: Final = {
    "en": "Thank you for letting us know, and we are glad it works now. We have marked this "
          "request as resolved. If anything else comes up, simply reply and we will pick it up "
          "again.",
    "de": "Vielen Dank für Ihre Rückmeldung; schön, dass es jetzt funktioniert. Wir haben die "
          "Anfrage als gelöst markiert. Wenn noch etwas ist, antworten Sie einfach, und wir "
          "kümmern uns darum.",
    "es": "Gracias por avisarnos; nos alegra que ya funcione. Hemos marcado esta solicitud como "
          "resuelta. Si surge cualquier otra cosa, responda a este mensaje y la retomaremos.",
    "fr": "Merci de nous avoir prévenus ; nous sommes ravis que cela fonctionne. Nous avons "
          "marqué cette demande comme résolue. Si autre chose se présente, répondez simplement "
          "et nous la reprendrons.",
    "pt": "Obrigado por nos avisar; que bom que agora funciona. Marcamos este pedido como "
          "resolvido. Se surgir mais alguma coisa, é só responder e retomamos.",
}

_SECURITY_SHORT: Final = {
    "en": "I've passed this to our security specialists as urgent. Now: change your password "
          "(Settings → Profile → Password), then sign out other sessions (Settings → Security → "
          "Active sessions).",
    "de": "Ich habe das dringend an unsere Sicherheitsfachleute gegeben. Jetzt: Passwort "
          "ändern (Settings → Profile → Password), dann andere Sitzungen abmelden (Settings → "
          "Security → Active sessions).",
    "es": "Lo he pasado con urgencia a nuestro equipo de seguridad. Ahora: cambia tu contraseña "
          "(Settings → Profile → Password) y cierra otras sesiones (Settings → Security → "
          "Active sessions).",
    "fr": "J'ai transmis en urgence à nos spécialistes sécurité. Maintenant : changez le mot de "
          "passe (Settings → Profile → Password), puis fermez les autres sessions (Settings → "
          "Security → Active sessions).",
    "pt": "Passei isto com urgência aos nossos especialistas em segurança. Agora: troque a "
          "senha (Settings → Profile → Password) e encerre outras sessões (Settings → Security "
          "→ Active sessions).",
}
_SECURITY_FULL: Final = {
    "en": "Thank you for telling us. I have passed this to our security specialists as an "
          "urgent case, and one of them will follow up with you personally. Until then, please "
          "secure the account: 1) change your password under Settings → Profile → Password, "
          "which signs out every other session; 2) check Settings → Security → Active sessions "
          "and sign out anything left; 3) turn on two-factor authentication under Settings → "
          "Security → Two-factor authentication; 4) if you use the API or integrations, revoke "
          "keys you do not recognise under Settings → Developer → API keys. Please never send "
          "us a password, a 2FA code or a recovery code: we never ask for them.",
    "de": "Danke für Ihre Nachricht. Ich habe den Fall dringend an unsere Sicherheitsfachleute "
          "übergeben; jemand meldet sich persönlich bei Ihnen. Bitte sichern Sie bis dahin das "
          "Konto: 1) Passwort ändern unter Settings → Profile → Password, das meldet alle "
          "anderen Sitzungen ab; 2) unter Settings → Security → Active sessions verbliebene "
          "Sitzungen abmelden; 3) die Zwei-Faktor-Authentifizierung unter Settings → Security → "
          "Two-factor authentication einschalten; 4) wenn Sie die API oder Integrationen "
          "nutzen, unbekannte Schlüssel unter Settings → Developer → API keys widerrufen. "
          "Senden Sie uns nie ein Passwort, einen 2FA-Code oder einen Wiederherstellungscode: "
          "Wir fragen nie danach.",
    "es": "Gracias por avisarnos. He pasado el caso con urgencia a nuestros especialistas en "
          "seguridad, y uno de ellos le contactará personalmente. Mientras tanto, proteja la "
          "cuenta: 1) cambie la contraseña en Settings → Profile → Password, lo que cierra las "
          "demás sesiones; 2) revise Settings → Security → Active sessions y cierre las que "
          "queden; 3) active la autenticación en dos pasos en Settings → Security → Two-factor "
          "authentication; 4) si usa la API o integraciones, revoque las claves que no "
          "reconozca en Settings → Developer → API keys. Nunca nos envíe una contraseña, un "
          "código 2FA ni un código de recuperación: nunca los pedimos.",
    "fr": "Merci de nous avoir prévenus. J'ai transmis le cas en urgence à nos spécialistes de "
          "la sécurité, et l'un d'eux vous recontactera personnellement. D'ici là, sécurisez le "
          "compte : 1) changez le mot de passe dans Settings → Profile → Password, ce qui ferme "
          "toutes les autres sessions ; 2) vérifiez Settings → Security → Active sessions et "
          "fermez ce qui reste ; 3) activez l'authentification à deux facteurs dans Settings → "
          "Security → Two-factor authentication ; 4) si vous utilisez l'API ou des "
          "intégrations, révoquez les clés inconnues dans Settings → Developer → API keys. Ne "
          "nous envoyez jamais de mot de passe, de code 2FA ni de code de récupération : nous "
          "ne les demandons jamais.",
    "pt": "Obrigado por nos avisar. Passei o caso com urgência aos nossos especialistas em "
          "segurança, e um deles falará com você pessoalmente. Enquanto isso, proteja a conta: "
          "1) troque a senha em Settings → Profile → Password, o que encerra as outras sessões; "
          "2) confira Settings → Security → Active sessions e encerre o que sobrar; 3) ative a "
          "autenticação em dois fatores em Settings → Security → Two-factor authentication; 4) "
          "se usa a API ou integrações, revogue as chaves que não reconhecer em Settings → "
          "Developer → API keys. Nunca nos envie senha, código 2FA ou código de recuperação: "
          "nunca pedimos.",
}


def _pick(short: dict[str, str], full: dict[str, str], channel: str, language: str) -> str:
    texts = short if channel == "whatsapp" else full
    return texts.get(language, texts["en"])


def closing_reply(channel: str, language: str) -> str:
    """Return the answer to a customer's thanks or "it works now", in their language."""
    return _pick(_CLOSING_SHORT, _CLOSING_FULL, channel, language)


def security_reply(channel: str, language: str) -> str:
    """Return the holding reply of an account-security incident: escalated, and the safe next
    steps from the docs."""
    return _pick(_SECURITY_SHORT, _SECURITY_FULL, channel, language)
