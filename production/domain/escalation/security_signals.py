"""An account-security incident told in words no rule lists: two signals near each other.

The rules in `rules/security_incident.py` match whole phrasings ("someone hacked my account").
Customers more often describe what they found and disown it: "an API key called 'sync2' ...
nobody on the team set these up", "2fa was turned off on my account. i didnt do that". So this
looks for the kind, not the sentence, as two signals within one sentence or two neighbouring
ones:

- *disowned change*: something on the account (a password, 2FA, an API key, a webhook, an
  integration, a member, a sign-in, an export, a setting) and the customer saying that nobody
  on their side did it or knows it ("none of us", "wasn't me", "we never created",
  "we don't recognise");
- *access that should not be*: someone who should not see the data (a guest, a former
  employee, a removed member, a stranger, another company) and access happening anyway ("can
  open", "still receives", "was never shared with").

English, German, Spanish, French and Portuguese, over the folded text (`detector.prepare`).
"""

from __future__ import annotations

import itertools
import re
from typing import Final

_ARTIFACT: Final = re.compile(
    r"\b(?:password|passwort|contrasena|mot de passe|senha|2fa|two-factor|two factor|mfa|"
    r"authenticator|recovery codes?|e-?mail|api[ -]?keys?|api[ -]?token|tokens?|"
    r"webhooks?|integrations?|members?|users?|guests?|admins?|owner|sso|settings?|sign-?ins?|"
    r"(?:signed|logged|log|sign) ?in(?:to)?|log-?ins?|sessions?|devices?|exports?|exported|"
    r"downloads?|downloaded|mitglied\w*|benutzer\w*|anmeldung\w*|schlussel|einstellungen|"
    r"gerat|miembros?|usuarios?|inicio de sesion|clave|configuracion|dispositivo|membres?|"
    r"utilisateurs?|connexion|cle|parametres|appareil|membros?|chave|configuracoes|acesso|"
    r"acceso|acces|zugriff)\b")

_DISOWNED: Final = re.compile(
    # "nobody on the team set these up", "none of us created it", "no one here knows it"
    r"\b(?:nobody|no one|no-one|none of us|not one of us|neither of us)\s+(?:\w+\s+){0,3}?"
    r"(?:did|made|set|setup|created|added|started|ran|requested|asked|changed|invited|"
    r"connected|installed|exported|downloaded|deleted|turned|switched|enabled|disabled|"
    r"authori[sz]ed|approved|knows|recogni[sz]es|recogni[sz]ed)\b|"
    # "i didn't do that", "we never created it", "i did not change it"
    r"\b(?:i|we)\s+(?:didn'?t|did not|never|haven'?t|have not)\s+(?:\w+\s+){0,2}?(?:do|did|"
    r"make|made|set up|setup|create|created|add|added|start|started|request|requested|"
    r"change|changed|invite|invited|connect|connected|turn|turned|switch|switched|enable|"
    r"disable|authori[sz]e|approve)(?:\s+(?:it|this|that|these|those|them|anything|any of "
    r"(?:it|this|these|them))\b|\s*(?:[.!?,;]|$))|"
    r"\b(?:wasn'?t|was not|weren'?t|were not|it'?s not|that'?s not|it was not)\s+(?:me|us|"
    r"one of us)\b|"
    r"\b(?:don'?t|do not|doesn'?t|does not|nobody|no one)\s+(?:\w+\s+)?recogni[sz]es?\b|"
    r"\bnone of us (?:knows?|recogni[sz]es?)\b|\bnever (?:seen|heard of) (?:it|them|this|"
    r"that|before)\b|\bwithout (?:my|our|anyone'?s) (?:knowledge|permission|consent|approval)\b|"
    # de, es, fr, pt
    r"\b(?:niemand|keiner von uns|keine von uns)\b|\b(?:das|es) war(?:en)? (?:ich|wir) nicht\b|"
    r"\b(?:ich|wir) (?:habe|haben) (?:das |es |ihn |sie )?(?:nie|nicht) (?:\w+ )?(?:gemacht|"
    r"angelegt|erstellt|geandert|eingerichtet|gestartet|eingeladen)\b|"
    r"\bohne (?:mein|unser)\w* (?:wissen|zustimmung|erlaubnis)\b|"
    r"\b(?:nadie|ninguno de nosotros)\b|\bno (?:fui|fuimos) (?:yo|nosotros)\b|"
    r"\b(?:yo|nosotros) no (?:lo |la )?(?:hice|hicimos|cree|creamos|cambie|invite)\b|"
    r"\bsin (?:mi|nuestro|nuestra) (?:permiso|autorizacion|conocimiento)\b|"
    r"\bpersonne (?:ici |chez nous |de nous )?(?:n'a|ne l'a|ne connait)\b|"
    r"\b(?:ce )?n'(?:etait|est) pas (?:moi|nous)\b|\baucun d'entre nous\b|"
    r"\b(?:je|nous) n'(?:ai|avons) (?:jamais|pas) (?:\w+ )?(?:fait|cree|change|modifie|"
    r"invite|lance|active|desactive)\b|\bsans (?:mon|notre) (?:accord|autorisation)\b|"
    r"\b(?:ninguem|nenhum de nos)\b|\bnao (?:fui|fomos) (?:eu|nos)\b|"
    r"\b(?:eu|nos) nao (?:fiz|fizemos|criei|criamos|mudei|convidei)\b|"
    r"\bsem (?:minha|nossa) (?:permissao|autorizacao)\b")

# Who should not see the workspace at all: any access by them is an incident.
_SHUT_OUT: Final = re.compile(
    r"\b(?:former (?:\w+ )?(?:employees?|colleagues?|members?|staff|contractors?|admins?)|"
    r"ex-?(?:employees?|colleagues?|members?|staff|contractors?)|someone who left|"
    r"(?:people|person|someone|somebody|users?) (?:from )?outside (?:our|the|of)|"
    r"strangers?|removed (?:\w+ )?(?:members?|users?|person|people|employees?|guests?)|"
    r"\w+ we (?:removed|revoked|offboarded|deactivated)|whose access we (?:removed|revoked)|"
    r"another company|"
    r"other compan(?:y|ies)|ehemalige[rnsm]? \w+|ancien(?:ne)?s? (?:salarie|employe|"
    r"collegue|membre|prestataire)\w*|ex-?(?:empleado|colaborador|funcionario)\w*|"
    r"antig[oa]s? (?:funcionari|colaborador|membro)\w*|ya no trabaja|nao trabalha mais)\b")
# Who may see a part of it (guests, freelancers): an incident when they see more.
_LIMITED: Final = re.compile(
    r"\b(?:guests?|freelancers?|contractors?|clients?|invitee?s?|invitad[oa]s?|gaste?|"
    r"convidad[oa]s?|persona externa|pessoa externa)\b")

_ACCESSING: Final = re.compile(
    r"\b(?:can|could|is able to|are able to|was able to)\s+(?:still\s+)?(?:see|open|access|"
    r"view|read|edit|download|get into|browse)\b|"
    r"\b(?:commented|logged in|signed in|downloaded|opened|accessed|edited|receives?|"
    r"received|gets)\b|"
    r"\b(?:kann|konnen|sieht|erhalt|bekommt)\b|\b(?:puede|ve|recibe|accede)\b|"
    r"\b(?:peut|voit|recoit|accede)\b|\b(?:pode|ve|recebe|acessa)\b")
# Access that goes on or was never granted.
_ANYWAY: Final = re.compile(
    r"\bstill\s+(?:has|have|had|gets|get|receives?|sees?|can|reads?|logs? in|signs? in|"
    r"comments?|downloads?|accesses|is able)\b|"
    r"\b(?:never|not|wasn'?t|was not)\s+(?:been\s+)?shared with\b|"
    r"\b(?:shouldn'?t|should not|isn'?t supposed to|is not supposed to)\s+(?:be able to\s+)?"
    r"(?:see|open|access|have)\b|"
    r"\b(?:noch immer|immer noch|weiterhin|nie geteilt|nicht geteilt)\b|"
    r"\b(?:todavia|aun|sigue|nunca (?:se )?compartid\w*)\b|"
    r"\b(?:encore|toujours|jamais partage\w*)\b|\b(?:ainda|nunca compartilhad\w*)\b")

_SENTENCES: Final = re.compile(r"(?<=[.!?])\s+|\n+")


def _windows(prepared: str) -> list[str]:
    sentences = [s for s in _SENTENCES.split(prepared) if s.strip()]
    return sentences + [f"{a} {b}" for a, b in itertools.pairwise(sentences)]


def found(prepared: str) -> bool:
    """Return whether the prepared text tells of a security incident in its own words."""
    for window in _windows(prepared):
        if _ARTIFACT.search(window) and _DISOWNED.search(window):
            return True
        if _SHUT_OUT.search(window) and (_ACCESSING.search(window) or _ANYWAY.search(window)):
            return True
        if _LIMITED.search(window) and _ANYWAY.search(window):
            return True
    return False
