"""Account-security incidents, a kind of `unknown_high_risk`: account takeover, breaches,
suspicious sign-ins, someone else's data in the customer's workspace, impersonation of us, and
people who should no longer have access. They escalate as `unknown_high_risk` with an urgent
ticket, and the holding reply gives the safe next step from the docs (change the password,
sign out of other sessions, revoke API keys).
"""

from __future__ import annotations

from production.domain.escalation.rule_set import RuleSet

RULES = RuleSet(
    reason="unknown_high_risk",
    patterns=(
        # security
        r"\b(?:attacker|attackers|intruder|intrusion|broke into|break-?in)\b",
        r"\b(?:2fa|two-factor|mfa|password|email|owner|admin|sso|recovery codes?)\s+(?:was|were|"
        r"has been|have been|got)\s+(?:disabled|changed|reset|removed|turned off|deleted)\b"
        r"[^.!?\n]{0,40}\b(?:didn't|did not|wasn't me|not me|never|without (?:my|our))\b",
        r"\b(?:hacked|hacker|hackers|hacking|compromised|account takeover|breached|data leak|"
        r"leaked|phishing|phished|malware|ransomware|spyware|"
        r"keylogger|identity theft|fraud|fraudulent|scammers?|vulnerabilit(?:y|ies)|exploit|"
        r"exploited|xss|sql injection|csrf|rce|bug bounty|responsible disclosure|cve-\d+)\b",
        r"\b(?:suspicious|unknown|unrecogni[sz]ed|strange) (?:login|logins|log-?in|activity|"
        r"sign-?in|sign-?ins|access|device|session|sessions|ip)\b|\bunauthori[sz]ed (?:access|"
        r"login|logins|sign-?in|user|users|person|activity|changes|use)\b",
        r"\bsecurity (?:hole|flaw|issue|bug|incident|problem|breach|vulnerability)\b",
        r"\b(?:data|privacy) breach\b|\b(?:a|the) breach\b(?!\s+(?:notification|notice|of "
        r"contract|clause))",
        r"\b(?:account|workspace|profile|email|login|password|credentials|identity|api keys?|"
        r"card details|data)\s+(?:was |were |got |has been |have been |is being )?(?:taken over|"
        r"stolen|hijacked)\b|\b(?:took over|stole|hijacked) (?:my|our) (?:account|workspace|"
        r"password|data|credentials|identity)\b",
        # someone else's data in the customer's workspace
        r"\b(?:that|which)\s+(?:are|is|were|was)\s+not\s+(?:ours|mine|our own)\b|"
        r"\bbelong(?:s|ing)?\s+to\s+(?:a|an|another|some|a different)\s+(?:\w+\s+)?(?:company|"
        r"customer|organi[sz]ation|workspace|team|user|person|business|firm)\b|"
        r"\b(?:company|workspace|organi[sz]ation|org|user|person|people|customer)\s+(?:that\s+)?"
        r"(?:i|we)(?:'ve| have)? never heard of\b",
        r"\b(?:see|seeing|shows?|showing|visible|appeared|appearing|appears?|access to)\b"
        r"[^.!?\n]{0,60}?\b(?:another|other|different|someone else's|a stranger's)\s+(?:company|"
        r"companies|customer|customers|organi[sz]ation|workspace|account|user|people)(?:'s|s')?"
        r"\s+(?:\w+\s+)?(?:tasks|projects|data|files|boards|comments|names|emails|information|"
        r"records|documents|attachments|messages|tickets|invoices|workspace|account)\b",
        r"\b(?:tasks|projects|data|files|boards|comments|records|documents|messages|tickets)\s+"
        r"(?:from|of|belonging to|owned by)\s+(?:another|a different|some other|an unknown|"
        r"other)\s+"
        r"(?:company|companies|customer|customers|organi[sz]ation|workspace|account|user)s?\b",
        r"\b(?:someone|somebody|a stranger|an unknown person|a hacker)\s+(?:else\s+)?"
        r"(?:has\s+|is\s+|was\s+|had\s+)?(?:logged|logging|signed|got|gotten|accessed|"
        r"changed|deleted|using|used|took|taken|reset|is in|has access|had access|gained|"
        r"downloaded|exported|removed|invited)\s+"
        r"(?:\w+\s+){0,4}?(?:into|in to|in|over|access to|my|our)\b",
        r"\bimpersonat\w* (?:techcorp|you|your|us|our|support)\b",
        # something done on the account that nobody on the customer's side did
        r"\b(?:nobody|no one|none of us|not one of us|no-one)\s+(?:here\s+|"
        r"on (?:our|the|my) team\s+|in (?:our|the|my) team\s+)?(?:did|made|started|ran|"
        r"requested|downloaded|exported|deleted|changed|invited|authori[sz]ed)\s+(?:that|this|it|them|those)\b|"
        r"\b(?:it\s+)?(?:wasn't|was not|weren't|were not)\s+(?:me|us|one of us)\b|"
        r"\b(?:nao fui eu|nao foi ninguem|no fui yo|no fuimos nosotros|ce n'(?:etait|est) pas "
        r"moi|personne (?:ici )?n'a (?:fait|lance|telecharge)|das war ich nicht|ich war (?:es|das) "
        r"nicht|niemand (?:hier|von uns) hat)\b",
        r"\b(?:revoked|deleted|removed|disabled|deactivated|rotated|offboarded|reset)\b"
        r"[^.!?\n]{0,120}?\b(?:still|again|anyway|nevertheless|but)\b[^.!?\n]{0,80}?"
        r"\b(?:requests?|accessing|access|pulling|used|using|logging in|logged in|signing in|"
        r"signed in|calls|downloading|exporting)\b",
        r"\b(?:dispositivo|aparelho|appareil|gerat|device|computer|ordinateur|computador)\s+"
        r"(?:que\s+|qui\s+|das\s+|that\s+|which\s+)?(?:nao e|no es|n'est pas|ist nicht|isn't|"
        r"is not|wasn't|was not)\s+(?:o\s+|el\s+|le\s+)?(?:meu|mio|mi|a moi|mein|mine|ours|"
        r"nosso|nuestro)\b|\b(?:dispositivo|aparelho|appareil|acceso|acesso|connexion|"
        r"inicio de sesion|login|sessao|sesion|session)s?\s+(?:desconhecid[oa]s?|"
        r"desconocid[oa]s?|inconnue?s?|suspeit[oa]s?|sospechos[oa]s?|suspecte?s?)\b|"
        r"\b(?:unbekannte[snm]?|verdachtige[snm]?|fremde[snm]?)\s+(?:gerat|anmeldung|zugriff|"
        r"login|sitzung)\b|\b(?:hackead[oa]|pirate|piratee|gehackt|invadid[oa]|"
        r"comprometid[oa]|kompromittiert)\b",
        r"\b(?:email|emails|message|messages|sms|text|texts|call|calls|link)\b[^.!?\n]{0,60}?"
        r"\b(?:wasn't|was not|weren't|were not|isn't|is not|aren't|not)\s+(?:really\s+)?from "
        r"(?:you|techcorp|your team|support)\b",
        r"\b(?:pretending|claiming|posing|purporting) (?:to be|as) (?:from )?(?:techcorp|you|"
        r"your (?:team|support|company)|support)\b",
        r"\b(?:former|ex-?|fired|terminated|departed)\s*(?:employee|staff|member|colleague|"
        r"contractor|admin|co-?worker)s?\b[^.!?\n]{0,60}\b(?:still (?:has|have|can)|downloading|"
        r"logged in|logging in|deleting|exporting|accessing)\b",
    ),
    examples=(
        "Somebody exported all of our projects last night and nobody here did that.",
        "We revoked the contractor's token on Monday but it is still pulling data today.",
        "Recebi um alerta de login de um dispositivo que não é meu.",
        "Ich habe eine Anmeldung von einem unbekannten Gerät bekommen, das war ich nicht.",
        "Mi cuenta fue hackeada, alguien cambió el correo.",
        "someone hacked my account",
        "I think we had a data breach",
        "Someone changed my password and 2FA and is deleting our projects.",
        "I can see tasks from a company I've never heard of in my workspace.",
        "There is suspicious login activity from Russia on my account.",
        "Our API key was leaked on GitHub.",
        "Three projects appeared in our sidebar that are not ours.",
        "I found an XSS vulnerability in your comment editor.",
        "I got a phishing email pretending to be TechCorp.",
        "My account was taken over and the attacker removed me as owner.",
        "A former employee still has access and is downloading our files.",
        "Somebody is using my email to log in from another country.",
        "My 2FA was disabled and I didn't do it.",
        "I'm seeing another customer's invoices in my billing page!",
        "We think an attacker got into our workspace through an API key.",
        "Hi, I'm a reporter for TechDaily. Could I ask about the breach?",
        "My account is sending spam to my team, I think I'm hacked",
        "We received an email with a link to reset passwords that wasn't from you.",
        "I can see other people's projects in my sidebar that I shouldn't have access to",
    ),
    near_misses=(
        "My phone was stolen, how do I reset 2FA?",
        "I've just taken over as admin of our workspace.",
        "We need breach notification timelines in the DPA.",
    ),
)
