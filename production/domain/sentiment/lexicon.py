"""The sentiment lexicon: emotion words with their valence, and the words that shape them."""

from __future__ import annotations

from typing import Final

# Emotion and judgement words, valence -4 … +4. English first, then Spanish, French, German,
# Portuguese and Roman Urdu/Hindi words that customers mix in. Accents are stripped before lookup.
LEXICON: Final[dict[str, float]] = {
    # strongly negative: anger, contempt, despair
    "angry": -3.0, "angrier": -3.0, "furious": -3.5, "livid": -3.5, "outraged": -3.5,
    "outrageous": -3.0, "pissed": -3.0, "enraged": -3.5, "fuming": -3.2, "mad": -2.0,
    "terrible": -3.0, "horrible": -3.0, "horrendous": -3.2, "awful": -3.0, "worst": -3.2,
    "pathetic": -3.0, "ridiculous": -2.6, "absurd": -2.3, "unacceptable": -3.0,
    "disgusting": -3.0, "disgraceful": -3.0, "disgrace": -3.0, "shameful": -2.6,
    "useless": -2.8, "worthless": -3.0, "garbage": -3.0, "junk": -2.5, "rubbish": -2.6,
    "incompetent": -3.0, "incompetence": -3.0, "clueless": -2.3, "hate": -3.0, "hated": -3.0,
    "scam": -3.0, "scammed": -3.2, "liars": -3.0, "lied": -2.6, "lying": -2.4, "ripoff": -3.0,
    "nightmare": -2.6, "disaster": -2.6, "sucks": -3.0, "sucked": -2.6, "suck": -2.4,
    "inexcusable": -3.0, "appalling": -3.0, "atrocious": -3.0, "dreadful": -3.0,
    "lousy": -2.5, "unprofessional": -2.8, "hopeless": -2.6, "desperate": -2.8,
    "desperately": -2.6, "panicking": -2.6, "devastated": -3.0, "ruined": -2.8,
    "betrayed": -3.0, "cheated": -3.0, "robbed": -3.0, "idiots": -3.0, "idiot": -3.0,
    "stupid": -2.6, "moronic": -3.0, "morons": -3.0, "clowns": -2.6, "joke": -1.5,
    "unusable": -2.6, "screwed": -2.6, "distrust": -2.2, "mistrust": -2.2, "sloppy": -2.0,
    "negligent": -2.6, "negligence": -2.6, "appalled": -3.0, "disgusted": -3.0,
    "horrified": -2.6, "embarrassing": -2.0, "humiliating": -2.6, "insulting": -2.6,
    "outrage": -3.0, "miserable": -3.0, "heartbroken": -3.0, "crying": -2.4,
    "exhausted": -1.8, "overwhelmed": -1.6, "misuse": -1.5, "unfair": -2.0, "shady": -2.4,
    "insane": -2.0, "infuriating": -3.2, "infuriated": -3.2,
    "ignored": -2.3, "ignoring": -2.0, "fraud": -3.0,
    "furiosa": -3.5, "furioso": -3.5, "enojado": -3.0, "enojada": -3.0, "enfadado": -3.0,
    "harto": -2.6, "harta": -2.6, "pesimo": -3.0, "pesima": -3.0, "basura": -3.0,
    "inaceptable": -3.0, "ridiculo": -2.6, "verguenza": -2.6,
    "furieux": -3.5, "furieuse": -3.5, "inacceptable": -3.0, "inadmissible": -3.0,
    "honteux": -2.6, "nul": -2.5, "nulle": -2.5, "catastrophique": -3.0, "enerve": -2.6,
    "wutend": -3.0, "sauer": -2.4, "verargert": -2.6, "unverschamt": -3.0, "frechheit": -3.0,
    "inakzeptabel": -3.0, "schrecklich": -3.0, "katastrophe": -2.6, "katastrophal": -3.0,
    "nutzlos": -2.8,
    "pessimo": -3.0, "pessima": -3.0, "horrivel": -3.0, "inaceitavel": -3.0, "lixo": -3.0,
    "porcaria": -2.6, "absurdo": -2.4, "vergonha": -2.6,
    "bakwas": -3.0, "bakwaas": -3.0, "ghatiya": -3.0, "bekar": -2.6, "bekaar": -2.6,
    "faltu": -2.5, "faltoo": -2.5, "gussa": -2.6, "dhoka": -3.0, "dhokebaaz": -3.2,
    "pagal": -1.8,
    # moderately negative: frustration, disappointment
    "frustrated": -1.6, "frustrating": -1.6, "frustration": -1.6, "annoyed": -1.5,
    "annoying": -1.5, "irritated": -1.5, "irritating": -1.5, "disappointed": -1.6,
    "disappointing": -1.6, "disappointment": -1.6, "upset": -1.6, "unhappy": -1.6,
    "dissatisfied": -1.8, "sad": -1.3, "bad": -1.2, "poor": -1.0, "worse": -1.6, "mess": -1.4,
    "messed": -1.3, "shocked": -1.6, "shocking": -1.8, "wasted": -1.8, "waste": -1.8,
    "nonsense": -1.8, "unreliable": -1.8, "helpless": -1.8, "stressed": -1.6, "stress": -1.2,
    "panic": -2.0, "regret": -1.6, "ugh": -1.4, "argh": -1.6, "smh": -1.4, "meh": -0.8,
    "unbelievable": -1.2, "seriously": -0.6, "sigh": -0.8,
    "molesto": -1.5, "molesta": -1.5, "decepcionado": -1.6, "decepcionada": -1.6,
    "malo": -1.2, "peor": -1.6, "decu": -1.6, "decue": -1.6, "enttauscht": -1.6,
    "schlecht": -1.2, "mist": -1.6, "chateado": -1.6, "chateada": -1.6, "irritado": -1.5,
    "irritada": -1.5, "bura": -1.2, "ganda": -1.5, "pareshan": -1.6, "pareshaan": -1.6,
    # positive
    "thanks": 1.5, "thank": 1.5, "thx": 1.2, "thanx": 1.2, "appreciate": 2.0,
    "appreciated": 2.0, "great": 2.4, "good": 1.6, "awesome": 3.0, "amazing": 3.0,
    "excellent": 3.0, "fantastic": 3.0, "wonderful": 3.0, "perfect": 2.6, "perfectly": 2.4,
    "love": 3.0, "loved": 3.0, "loving": 2.6, "lovely": 2.5, "helpful": 2.2, "nice": 1.8,
    "happy": 2.2, "glad": 2.0, "pleased": 2.2, "satisfied": 2.0, "cool": 1.3,
    "brilliant": 3.0, "superb": 3.0, "impressed": 2.5, "impressive": 2.5, "smooth": 1.4,
    "easy": 1.2, "solved": 1.5, "resolved": 1.5, "fixed": 1.2, "kind": 1.2, "quick": 1.0,
    "best": 2.4, "enjoy": 2.0, "enjoying": 2.0, "recommend": 2.0, "delighted": 3.0,
    "grateful": 2.5, "cheers": 1.2, "yay": 2.0, "wow": 1.0, "works": 0.8, "worked": 1.0,
    "gracias": 1.5, "excelente": 3.0, "genial": 2.4, "perfecto": 2.6, "bueno": 1.5,
    "feliz": 2.2, "merci": 1.5, "parfait": 2.6, "super": 2.0, "danke": 1.5, "toll": 2.4,
    "prima": 2.0, "perfekt": 2.6, "obrigado": 1.5, "obrigada": 1.5, "otimo": 2.5,
    "perfeito": 2.6, "shukriya": 1.5, "shukria": 1.5, "dhanyavaad": 1.5, "zabardast": 3.0,
    "kamaal": 2.5, "acha": 0.6, "accha": 0.6,
}

# Words that only name a fault: they count a little, and all of them together at most
# `scoring._PROBLEM_FLOOR`, so a calm bug report stays near neutral.
PROBLEM_WORDS: Final[frozenset[str]] = frozenset({
    "broken", "broke", "error", "errors", "crash", "crashes", "crashed", "crashing", "bug",
    "bugs", "buggy", "fail", "fails", "failed", "failing", "failure", "issue", "issues",
    "problem", "problems", "stuck", "wrong", "slow", "outage", "missing", "lost", "unable",
    "glitch", "glitchy", "freeze", "freezes", "frozen", "laggy", "confusing", "confused",
    "trouble", "urgent", "urgently", "asap", "emergency", "critical", "blocked", "locked",
    "problema", "probleme", "fehler", "erro", "urgente", "dringend",
})

NEGATORS: Final[frozenset[str]] = frozenset({
    "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "hardly",
    "barely", "cannot", "cant", "dont", "doesnt", "isnt", "wasnt", "arent", "werent", "wont",
    "didnt", "havent", "hasnt", "hadnt", "couldnt", "shouldnt", "wouldnt", "aint", "nunca",
    "pas", "jamais", "nicht", "kein", "keine", "nie", "nao", "nahi", "nahin", "isn't",
    "doesn't", "don't", "won't", "can't", "didn't", "wasn't", "aren't", "weren't", "haven't",
    "hasn't", "hadn't", "couldn't", "shouldn't", "wouldn't", "ain't", "stopped",
})
# "isn't working", "won't load": a fault when negated, nothing otherwise.
FAULT_IF_NEGATED: Final[frozenset[str]] = frozenset({
    "work", "working", "load", "loading", "sync", "syncing", "open", "opening", "arrive",
    "arriving", "show", "showing",
})

INTENSIFIERS: Final[dict[str, float]] = {
    "very": 1.3, "really": 1.3, "extremely": 1.5, "so": 1.3, "totally": 1.3, "absolutely": 1.4,
    "completely": 1.4, "utterly": 1.5, "incredibly": 1.5, "truly": 1.3, "highly": 1.3,
    "too": 1.2, "such": 1.2, "insanely": 1.4, "deeply": 1.3, "beyond": 1.3, "most": 1.2,
    "bahut": 1.3, "bohat": 1.3, "bohot": 1.3, "muy": 1.3, "tres": 1.3, "sehr": 1.3,
    "muito": 1.3, "tan": 1.2, "super": 1.3, "vraiment": 1.3, "wirklich": 1.3,
    "bit": 0.6, "slightly": 0.6, "somewhat": 0.7, "kinda": 0.7, "little": 0.7, "fairly": 0.8,
    "rather": 0.8, "mildly": 0.6,
}

# Upper-case words that are names of things, not shouting.
ACRONYMS: Final[frozenset[str]] = frozenset({
    "API", "APIS", "CSV", "JSON", "SSO", "SAML", "SCIM", "URL", "PDF", "FAQ", "HTML", "HTTP",
    "HTTPS", "REST", "SDK", "IOS", "MFA", "GDPR", "DPA", "CCPA", "SOC", "ISO", "UTC", "GMT",
    "EST", "PST", "CET", "VAT", "MSA", "SLA", "CRM", "ERP", "ETA", "EOD", "QR", "CSS", "XML",
    "DNS", "SMS", "OTP", "PIN", "VPN", "SSL", "TLS", "CLI", "AWS", "GCP", "CEO", "CTO", "CFO",
    "USA", "USD", "EUR", "GBP", "INR", "PKR", "TKT", "ZIP", "IDP", "OKTA", "JIRA", "HIPAA",
    "LGPD", "RGPD", "DSGVO", "DSAR", "VPAT", "WCAG", "NVDA", "JAWS", "AES", "HMAC", "SHA",
    "RSS", "GPS", "PNG", "JPG", "JPEG", "GIF", "DOCX", "XLSX", "UUID", "IMAP", "SMTP", "LLC",
    "INC", "LTD", "GMBH", "ACS", "IDE", "PTO", "KPI", "OKR", "ROI", "EMEA", "APAC", "NYC",
})

# Short words that are shouted, not names: "WHY is this NOT fixed".
SHORT_SHOUTS: Final[frozenset[str]] = frozenset({
    "NOT", "NOW", "WHY", "ALL", "YOU", "THE", "AND", "FIX", "BUT", "HOW", "ANY", "GET", "OUT",
    "YET", "NO", "ME", "MY", "IS", "IT", "DO", "WTF", "OMG", "ASAP", "FOR", "ARE", "CAN",
})

# Emoji and emoticons, valence as for words.
EMOJI: Final[dict[str, float]] = {
    ":)": 1.5, ":-)": 1.5, ":d": 2.0, "🙂": 1.5, "😀": 2.0, "😊": 2.0, "😃": 2.0, "😄": 2.0,
    "❤": 2.5, "👍": 1.5, "🙏": 1.0, "🎉": 2.0, "😍": 2.5, "🥰": 2.5, ":(": -1.5, ":-(": -1.5,
    "😡": -3.0, "🤬": -3.5, "😠": -3.0, "😤": -2.5, "😢": -2.0, "😭": -2.4, "👎": -2.0,
    "😞": -1.8, "😒": -1.6, "🙄": -1.8, "💩": -2.5,
}
