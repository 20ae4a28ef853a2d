"""Lawyers, courts, regulators, data-protection law and compliance paperwork.

Deleting a project or an account is answerable; deleting personal data *under GDPR* is a legal
request.
"""

from __future__ import annotations

from production.domain.escalation.rule_set import RuleSet

RULES = RuleSet(
    reason="legal_or_compliance",
    patterns=(
        r"\b(?:lawyer|lawyers|attorney|attorneys|solicitor|solicitors|counsel|"
        r"lawsuit|lawsuits|law suit|litigation|litigate|class action|subpoena\w*|"
        r"cease and desist|injunction|arbitration|court order|small[- ]claims|tribunal)\b",
        r"\blegal\b(?!\s+(?:name|entity|entities|address|size|pad|paper|business name))"
        r"(?!\s+(?:team |department |dept )?(?:project|projects|board|boards|workspace|tasks?|"
        r"template|templates)\b)",
        r"\b(?:sue|suing)\s+(?:you|your|techcorp|them|the company|you guys|the lot)\b|"
        r"\b(?:will|'ll|going to|gonna|may|might|could|would|shall|should|to|can|and|or)\s+sue\b|"
        r"\bsued\b",
        r"\b(?:to|in|into|at|before) (?:a |the )?court\b|\bcourt (?:case|action|date|hearing)\b",
        r"\b(?:gdpr|ccpa|cpra|hipaa|lgpd|dsgvo|rgpd|pipeda|pdpa|ferpa|coppa|baa|dpa|dpo|dsar|"
        r"dpia|nda|ndas)\b|\bnon-?disclosure agreement\b",
        r"\b(?:business associate agreement|data processing (?:agreement|addendum)|"
        r"data protection (?:officer|authority|act|law|laws|agreement|addendum|regulation|"
        r"impact)|data subject (?:access )?requests?|subject access requests?|"
        r"right to (?:be forgotten|erasure|access|rectification|portability|object)|"
        r"soc ?2|soc-2|iso ?27001|iso ?27701|iso ?27018|pen(?:etration)? ?test (?:report|results)|"
        r"security questionnaire|vendor (?:security|risk) (?:assessment|questionnaire|review)|"
        r"compliance(?! documents?| docs| section| page)|compliant|non-?compliant|regulators?|"
        r"regulatory|ombudsman|"
        r"consumer (?:protection|rights)|trading standards|ftc|attorney general|"
        r"ico (?:complaint|report)|report(?:ing)? you to|file a (?:formal )?complaint with|"
        r"breach of contract|defamation|defamatory|libel|slander|copyright|dmca|trademark|"
        r"infringement|infringing|privacy (?:policy|law|laws|regulation|regulations|notice|"
        r"violation|complaint|officer|rights)|police|law enforcement|sla (?:breach|credit|credits|"
        r"violation)|data retention (?:policy|agreement) for (?:legal|compliance)|legal hold|"
        r"e-?discovery|sub-?processors?|standard contractual clauses|sccs)\b",
        # a formal notice in a lawyer's register, without the obvious words
        r"\b(?:we|i|this firm) (?:represent|act for|act on behalf of|are instructed by|have been "
        r"instructed by)\b[^.!?\n]{0,80}?\b(?:in relation to|in connection with|in respect of|"
        r"regarding|concerning|as regards)\b|\bon behalf of (?:our|my) clients?\b|"
        r"\b(?:our|my) clients?\b[^.!?\n]{0,60}?\b(?:require|requires|demand|demands|hosted|"
        r"reserves?|instructs?)\b",
        r"\b(?:disclose|disclosure of|reveal|provide us with) (?:to us )?(?:the )?(?:identity|"
        r"name|names|contact details|personal details|details|address) (?:and (?:the )?(?:\w+ )?"
        r"(?:details|address|contact details) )?of (?:the )?(?:holder|owner|user|person|"
        r"account holder|customer|individual|operator)\b",
        r"\b(?:retain|preserve|conserve)\s+(?:all\s+|its\s+|the\s+|their\s+|this\s+|that\s+)?"
        r"(?:\w+\s+)?(?:contents?|data|records|workspace|account|information|material|files|"
        r"logs|evidence)\b[^.!?\n]{0,40}?\b(?:unaltered|intact|unchanged|as it stands|"
        r"in its current state|pending)\b|"
        r"\b(?:preservation|litigation) (?:notice|request|letter|order|hold)\b|"
        r"\bwithout prejudice\b|\bhereby (?:request|demand|require|give notice|notify|"
        r"put you on notice)\b|\bformal notice\b|\b(?:liquidator|insolvency (?:administrator|"
        r"practitioner|proceedings)|official receiver|court-appointed|appointed by the court|"
        r"bankruptcy (?:trustee|court|proceedings)|receivership)\b",
        r"\b(?:mandataire|liquidateur|administrateur judiciaire|huissier|mise en demeure|"
        r"par jugement|redressement judiciaire|liquidation judiciaire|tribunal de commerce|"
        r"jusqu'a nouvel ordre|insolvenzverwalter|insolvenzverfahren|gerichtsvollzieher|"
        r"einstweilige verfugung|unsere mandantin|unser mandant|im auftrag unserer|"
        r"administrador concursal|concurso de acreedores|burofax|requerimiento notarial|"
        r"en representacion de|nuestra representada|administrador judicial|recuperacao judicial|"
        r"falencia|notificacao extrajudicial|em nome de (?:nosso|nossa) client\w*)\b",
        # other languages
        r"\b(?:abogado|abogados|abogada|demanda judicial|demandar|demandaremos|los demandare|"
        r"denuncia|denunciar|tribunales|juicio|avocat|avocats|poursuite|poursuivre|poursuites|"
        r"en justice|porter plainte|anwalt|anwaltin|rechtsanwalt|klage|verklagen|gericht|"
        r"abmahnung|datenschutz\w*|advogado|advogados|advogada|processo judicial|na justica|"
        r"acao judicial|procon|vakeel|wakeel|wakil|adalat|court case|legal notice|"
        r"case (?:karunga|karenge|kar dunga|kar denge|kar doonga))\b",
    ),
    examples=(
        "We act for Nordlys AB in connection with content stored in one of your workspaces.",
        "Our client requires that the workspace be preserved unaltered pending proceedings.",
        "Please disclose the identity and contact details of the holder of that account.",
        "As court-appointed liquidator of Brightwater Ltd I ask you to freeze its workspace.",
        "En qualité de liquidateur judiciaire, je vous demande de conserver les données.",
        "Als Insolvenzverwalter der Firma bitte ich Sie, den Workspace unverändert zu lassen.",
        "my lawyer will be in touch",
        "My attorney is reviewing your terms.",
        "I'll sue",
        "We will take legal action.",
        "I'm taking this to small claims court",
        "We received a subpoena relating to one of your users.",
        "GDPR data subject request",
        "delete all my personal data under GDPR",
        "Under Article 15 GDPR I request a copy of all personal data you hold about me.",
        "I want to exercise my right to be forgotten.",
        "need you to sign our DPA",
        "Please countersign the attached data processing agreement.",
        "Our auditors need your SOC 2 Type II report.",
        "Is TechCorp HIPAA compliant? We need a BAA.",
        "Can you complete our security questionnaire?",
        "Are you compliant with CCPA?",
        "This is a misuse of our trademark.",
        "my lawer is reviewing this",
        "Mi abogado se pondrá en contacto con ustedes.",
        "Mein Anwalt wird sich melden.",
        "Legal question: can we use TechCorp for patient data?",
        "The police asked us for records from our workspace, what do we do?",
        "We need a signed NDA before sharing our security details.",
        # written as a held-out check after the rules were tuned; kept as regression cases
        "This violates GDPR, I want my data erased now.",
        "Our compliance officer needs your subprocessor list.",
        "You will be hearing from our attorneys.",
        "Is it legal for you to store our data in the US?",
        "Vou processar vocês na justiça.",
        "I'm getting my solicitor involved.",
        "Request under CCPA: do not sell my personal information.",
        "Please send your data processing addendum for signature.",
        "Our regulator requires an audit of your controls, who do we contact?",
        "Do you have a pen test report we can review?",
    ),
    near_misses=(
        "Our clients can see the project when we invite them as guests.",
        "How do I keep the archived project intact when I move tasks out?",
        "Hi Sue, the export worked.",
        "Where are the compliance documents in settings?",
        "Please put our legal name on the invoice.",
        "How do I export all our data?",
    ),
)
