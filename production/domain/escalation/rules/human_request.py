"""A person asked for: a human, a call, a manager, anything but a bot.
"""

from __future__ import annotations

from production.domain.escalation.rule_set import RuleSet

RULES = RuleSet(
    reason="human_request",
    patterns=(
        r"\bhumans?\b(?![- ](?:readable|resources|error|errors|rights|centered|centred|"
        r"friendly|language|made|interface))",
        r"\bscreen[- ]?shar\w*\b|\bremote (?:session|support|desktop session)\b",
        r"\b(?:real|actual|live|physical|breathing|proper|living)\s+(?:person|people|human|agent|"
        r"guy|guys|lady|man|woman|"
        r"agents|rep|reps|representative|support agent|support person|staff|employee|"
        r"someone|operator|support|chat)\b",
        r"\brepresentatives?\b|\b(?:a|your|an|the|customer|support|service)\s+(?:service\s+)?"
        r"reps?\b",
        r"\b(?:speak|talk|chat|connect me|put me through|transfer me|escalate (?:this|me|it))\s+"
        r"(?:to|with)\s+(?!(?:my|our|his|her|their)\b)(?:\w+\s+){0,2}?(?:person|human|humans|"
        r"agent|someone|somebody|anybody|anyone|manager|supervisor|boss|specialist|engineer|"
        r"staff|employee|rep|representative|operator|consultant|expert|csm|people|"
        r"customer success manager|account manager|your (?:team|support team|support|staff|"
        r"people|engineers|developers|company))\b",
        r"\bcall (?:me|us)(?: back)?\b(?=\s*(?:back|asap|please|pls|plz|now|today|tomorrow|on|at|"
        r"when|urgently|immediately|right away|to discuss|so|as soon|$|[?.!,]))",
        r"\b(?:give me|give us)\s+(?:a\s+)?(?:call|ring|phone call)\b|\b(?:ring|phone) (?:me|us)\b",
        r"\b(?:schedule|book|arrange|set up|have|get|request|want|need|jump on|hop on|receive)\s+"
        r"(?:a\s+)?(?:quick\s+|short\s+)?(?:phone\s+|video\s+|zoom\s+)?call(?:-?back)?\b"
        r"(?!\s+(?:notification|notifications|feature|button|log|logs|integration|recording|"
        r"reminder|reminders|task|tasks|note|notes|summary|agenda|link|links|template))",
        r"\b(?:discuss|talk|speak|chat|go over|explain|walk me through)\s+(?:\w+\s+){0,3}?"
        r"(?:over|on|by) (?:the )?phone\b",
        r"\b(?:whoever|someone|somebody|the person|anyone|a person)\s+(?:who is |that is |is )?"
        r"(?:in charge|responsible|more senior|senior|competent|who knows|that knows|"
        r"with authority|qualified)\b",
        r"\bget me (?:someone|somebody|a person|a human|an agent|a manager|a supervisor|your "
        r"manager|your boss|a real)\b",
        r"\b(?:a|request a|get a|want a|need a|schedule a) call-?back\b",
        r"\b(?:zoom|teams|google meet|skype|webex|video|phone)\s+(?:call|meeting|session|chat)\b"
        r"(?!\s+(?:notification|notifications|integration|link|links|feature))|"
        r"\b(?:get|jump|hop)\s+on\s+(?:a\s+)?(?:quick\s+|short\s+)?(?:zoom|call|teams|meet|"
        r"video|phone)\b|\bvideo session\b",
        r"\b(?:i |we )?(?:want|need|would like|'d like)\s+(?:someone|somebody|a person|a human)\s+"
        r"(?:who|that|to)\s+(?:\w+\s+){0,2}?(?:actually|really|properly|can|will|look|sort|"
        r"call|talk|speak|check)\b",
        r"\b(?:i|we)\s+(?:want|need|demand|would like|'d like)\s+(?:to (?:talk|speak|chat) "
        r"(?:to|with) )?(?:a|an)\s+(?:real\s+|actual\s+|live\s+)?(?:person|human|human being|agent|"
        r"manager|supervisor|representative)\b",
        r"\b(?:who is|who's)\s+(?:my|our)\s+(?:account manager|csm|customer success manager|"
        r"account executive|rep|representative)\b",
        r"\b(?:no|not a|not another|without a|without the|stop sending (?:me |us )?)\s*"
        r"(?:more\s+)?(?:canned|"
        r"copy-?pasted?|automated|template[d]?|generic|scripted|bot|robot)\s+(?:reply|replies|"
        r"response|responses|answer|answers|message|messages|list)\b",
        r"\b(?:are you|is this|am i (?:talking|chatting|speaking|writing) (?:to|with))\s+"
        r"(?:just\s+)?(?:a|an)?\s*(?:bot|robot|ai|machine|real|human|person|automated|computer)\b",
        r"\b(?:not|no more|stop|enough with|tired of|hate|don't want|do not want|sick of)\s+"
        r"(?:a |the |this |your |talking to |chatting with |these )?(?:bots?|robots?|chatbots?|"
        r"ai|machines?|automated (?:replies|responses|messages|answers)|canned (?:replies|"
        r"responses))\b",
        r"\bescalat(?:e|ed|ing|ion)\b(?!\s+(?:priority|permission|permissions|privileges?|"
        r"rules?|policy|policies|path|matrix))",
        r"\b(?:your|ur) (?:manager|supervisor|boss|superior|superiors|supervisors)\b|"
        r"\b(?:get|want|need|give|fetch|find|put)\s+(?:me\s+)?(?:a|the|your)\s+"
        r"(?:manager|supervisor)\b|\bsupervisor\b(?!\s+(?:role|permission|permissions|view))",
        r"\b(?:someone|somebody|anyone|anybody|a person|a human|a real person)\s+(?:from your "
        r"(?:team|company|side|support)\s+|at techcorp\s+|there\s+|on your end\s+)?(?:please\s+)?"
        r"(?:call|phone|ring|contact|reach out to|get back to|talk to|speak to|speak with|"
        r"talk with)\s+(?:me|us)\b",
        r"\b(?:live chat|live support|phone support|call center|call centre|hotline|"
        r"support (?:phone )?(?:number|line))\b|\b(?:what is|what's|give me|send me|share)\s+"
        r"(?:your|the)\s+(?:support\s+)?phone number\b",
        r"\b(?:can|could|may|how (?:do|can))\s+(?:i|we)\s+(?:call|phone|ring)\s+(?:you|support|"
        r"someone|techcorp|your team|your support)\b",
        # other languages
        r"\b(?:hablar|comunicarme|pasame|pasenme|parler|sprechen|falar|conversar)\s+(?:\w+\s+)?"
        r"(?:con|a|avec|mit|com)\s+(?:\w+\s+){0,2}?(?:persona|humano|humana|alguien|agente|"
        r"asesor|asesora|supervisor|gerente|encargado|operador|humain|personne|quelqu'un|"
        r"conseiller|conseillere|responsable|menschen|mensch|mitarbeiter|mitarbeiterin|berater|"
        r"vorgesetzten|pessoa|alguem|atendente)\b",
        r"\b(?:persona real|humano real|vraie personne|echte[nr]? (?:person|mensch)|"
        r"pessoa real|asli insaan|real insaan|llamenme|llamame|rappelez-moi|appelez-moi|"
        r"rufen sie mich an|ruf mich an|me ligue|me liguem|me liga)\b",
        r"\b(?:kann|konnte|koennte) (?:mich )?(?:bitte )?(?:jemand|einer|eine) "
        r"(?:von (?:euch|ihnen) )?(?:mich )?(?:bitte )?(?:anrufen|zuruckrufen|kontaktieren)\b|"
        r"\b(?:puede|podria|pueden|podrian) (?:alguien )?(?:llamarme|contactarme)\b|"
        r"\b(?:quelqu'un peut|pouvez-vous) (?:me rappeler|m'appeler)\b|"
        r"\b(?:alguem (?:pode|poderia)|podem|poderiam) (?:me ligar|ligar para mim|me telefonar)\b",
        r"\b(?:insaan|insan|banda|bande|aadmi|agent|manager|supervisor|human|person|"
        r"representative|kisi)\s+(?:se|say|sy)\s+(?:baat|bat)\b|\b(?:mujhe|mujhay|humein)\s+"
        r"(?:call|phone)\s+(?:karo|karein|kar do|kar dein|karna)\b",
    ),
    examples=(
        "Kann mich bitte jemand anrufen? Ich verstehe die Einstellungen nicht.",
        "¿Puede alguien llamarme esta tarde?",
        "Quelqu'un peut me rappeler ? Je suis perdu dans les réglages.",
        "Alguém pode me ligar? Não consigo configurar.",
        "can a real person call me",
        "let me talk to your manager",
        "is there a human",
        "call me back",
        "speak to someone please",
        "I'd like to speak to your manager.",
        "Is this a bot? I want someone from support.",
        "Can we get on a quick Zoom with your team?",
        "I want to talk to a human, not a bot.",
        "Please have someone call me, my number is in my profile.",
        "Can I get a callback today?",
        "Put me through to a live agent.",
        "Escalate this to a supervisor please.",
        "Would it be possible for someone from your team to give me a call?",
        "No canned reply please, I want someone who can actually sort this out.",
        "Quiero hablar con una persona real.",
        "Je voudrais parler à un conseiller.",
        "Kisi insaan se baat karwa do",
        "I want to talk to a humna",
        "I'd rather discuss this over the phone.",
        "Can I please speak to whoever is in charge?",
        "Get me someone who knows what they're doing.",
        "Are there actual humans working there?",
        # written as a held-out check after the rules were tuned; kept as regression cases
        "Please connect me with a real human being.",
        "I need to speak with somebody on the phone about our account.",
        "Can your support team call me at 3pm?",
        "Stop sending me bot answers, I want a person.",
        "Who is my account manager? I'd like to talk to them.",
        "bro just let me talk to a real guy",
        "hello?? is anyone there? any human?",
        "I want to escalate this ticket.",
        "Pls arrange a call with your tech team tomorrow",
        "Could a support engineer jump on a screen share with me?",
    ),
    near_misses=(
        "call notifications on mobile",
        "human-readable export format",
        "How do I invite a person to my project?",
        "Call me if anything is unclear.",
        "I need to talk to my team first.",
    ),
    declinable=True,
    offers_count=False,
)
