"""Which messages a person must handle, and why: pattern rules over the customer's own words.

`detect` reads one inbound message and returns every escalation reason it triggers, in the
priority order of `REASONS`. The rules look for what a message asks for, not for single seed
words: "what would 40 seats cost us" is a pricing question and "where do I find my invoices" is
not; "call me back" asks for a person and "call notifications" does not. They are written for
the English most customers use, typos included ("refnd", "mony back", "lawer"), with the
common Spanish, French, German, Portuguese and Roman Urdu/Hindi wordings.

Before the rules run, short quoted spans are dropped (they name projects and templates, such as
"Vendor onboarding"), and near-misses of the key words are spelled right. A request the
customer takes back ("I don't want a refund, just…") or an offer rather than a request ("call
me if anything is unclear") does not count.

Where the line is drawn (see context/escalation-rules.md):
- Plan *features* are answerable (they are in the product docs); anything about the *price* of
  a plan, seats, quotes, discounts, contracts, renewals, payment terms, procurement paperwork
  or a disputed charge is `pricing_or_contract`. Downloading invoices, changing the billing
  email or changing plan in the app are answerable.
- Cancelling a task, an invitation or an export is not cancelling the subscription; deleting a
  project or an account is answerable, deleting personal data *under GDPR* is a legal request.
- Threats to leave, "too expensive", "not worth it", "convince me" are `objection`.
- Account takeover, breaches, mass data loss, press, self-harm and threats of violence are
  `unknown_high_risk`: they go to people who can act at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from production.agent import guardrails
from production.agent.sentiment import score as sentiment_score

# Most important first, as context/escalation-rules.md ("Precedence") orders them.
REASONS: Final = ("unknown_high_risk", "prompt_injection", "legal_or_compliance", "refund",
                  "pricing_or_contract", "human_request", "objection", "negative_sentiment",
                  "no_kb_match")
NEGATIVE_SENTIMENT_THRESHOLD: Final = 0.3
NO_KB_MATCH_SEARCHES: Final = 2


@dataclass(frozen=True)
class Escalation:
    escalate: bool
    reasons: tuple[str, ...]  # in REASONS order of priority, no duplicates
    sentiment: float


def _rules(patterns: Iterable[str]) -> guardrails.Rules:
    return guardrails.Rules(*patterns, flags=0)


_COMPETITOR = (r"(?:asana|trello|monday(?:\.com)?|jira|clickup|click up|notion|basecamp|wrike|"
               r"smartsheet|linear|airtable|teamwork|todoist|microsoft planner|ms planner|"
               r"zoho projects|a competitor|your competitors?|(?:another|a different|a cheaper|"
               r"a better|some other) (?:tool|provider|vendor|app|service|platform|product|"
               r"solution|company))")
_PAY = (r"(?:cost|costs|costing|charge|charged|charges|pay|paying|be billed|billed|run us|"
        r"set us back|come to|comes to|add up to|adds up to)")
# Things a customer cancels that are not the subscription.
_NOT_SUBSCRIPTION = (r"(?:task|tasks|meeting|meetings|invite|invites|invitation|invitations|export|"
                     r"exports|import|imports|event|events|subtask|subtasks|sync|upload|uploads|"
                     r"request|requests|reminder|reminders|notifications?|changes?|edit|edits|"
                     r"job|jobs|download|recurrence|occurrence|series|transfer|ownership|"
                     r"deletion|email change|booking)")

# A charge the customer disputes: `pricing_or_contract`, unless they also want the money back,
# which makes it a `refund` (the billing team reads both).
_CHARGE_DISPUTE: Final = _rules((
    r"\b(?:over-?charged|overbilled|over-?billing|double[- ]charged|double[- ]billed|"
    r"charged twice|billed twice|duplicate (?:charge|payment|invoice))\b",
    r"\b(?:charged|billed|invoiced)\s+(?:me\s+|us\s+)?(?:twice|double|two times|again|too much|"
    r"more|extra|wrong|incorrectly|for (?:\w+\s+){0,3}(?:i|we) (?:didn't|did not|don't|"
    r"do not|never|no longer)|for \d+\s+(?:users|seats|members|licen[cs]es|people))\b",
    r"\b(?:wrong|incorrect|inflated|unexpected|unknown|strange|mysterious|extra|higher) "
    r"(?:amount|charge|charges|price|invoice|invoices|bill|payment|fee|fees)\b",
    r"\b(?:invoice|bill|charge)\s+(?:is|was|looks|seems|appears)\s+(?:\w+\s+)?(?:wrong|"
    r"incorrect|too high|off|higher|inflated|double)\b",
    r"\bwhy (?:was|were|am|are|did|have|has)\s+(?:i|we|you|my card|our card|it)\s+(?:\w+\s+)?"
    r"(?:charged|billed|charge|bill|been charged|been billed)\b",
    r"\b(?:invoice|bill|charge|receipt)s?\s+(?:shows?|lists?|says|has|includes?|is for|"
    r"charges? (?:us|me) for)\s+(?:\d+|more|extra)\s+(?:users|seats|members|licen[cs]es)\b",
    r"\b(?:charged|billed)\s+(?:me\s+|us\s+)?(?:after|even though|although|despite|without)\b",
    r"\b(?:paid|payed|pay|paying)\s+(?:\w+\s+)?(?:twice|double|two times)\b",
    r"\b(?:billed|charged|invoiced)\s+(?:us|me)\s+for\b[^.!?\n]{0,60}\bbut\b",
    r"\b(?:amount|total|charge|price|sum)\s+(?:on|of|in)\s+(?:the\s+|our\s+|my\s+|this\s+)?"
    r"(?:invoice|bill|receipt)\b[^.!?\n]{0,60}\b(?:doesn't|does not|don't|isn't|is not|wrong|"
    r"incorrect|higher|different)\b",
    r"\b(?:doesn't|does not|don't|do not)\s+match\s+(?:what|the)\s+(?:\w+\s+)?(?:sales|quote|"
    r"quoted|agreed|promised|contract|offer)",
))

_RULES: Final[dict[str, guardrails.Rules]] = {
    "pricing_or_contract": _rules((
        # what something costs
        rf"\bhow much\s+(?:(?:does|do|would|will|is|are|did|should|could)\s+)?(?:\w+\s+){{0,6}}?"
        rf"{_PAY}\b",
        r"\bhow much (?:is|are|for|per|would|will)\b(?!\s+(?:\w+\s+)?(?:storage|space|limit|"
        r"limits|quota|data|time|history|included|allowed|available|left|remaining|faster|"
        r"longer|bigger)\b)",
        rf"\b(?:what|how much)\s+(?:does|do|would|will|did|is going to|could|might|'d|'ll)\s+"
        rf"(?:\w+\s+){{0,6}}?{_PAY}\b",
        r"\b(?:cost|costs|costing)\s+(?:per|each|a month|a year|monthly|annually|to (?:add|upgrade|"
        r"buy|get|have|move|switch))\b",
        r"\b(?:cost|costs|price|prices)\s+(?:for|of)\s+(?:the |a |an |our |your |adding |\d+ )?"
        r"(?:\w+\s+)?(?:plan|plans|seats?|licen[cs]es?|subscription|upgrade|users?|members?|tier|"
        r"guests?|storage)\b",
        r"\b(?:would|will|does|do|could|might|going to|gonna|'d|'ll)\s+(?:\w+\s+){0,4}?"
        r"costs?\s+(?:us|me)\b",
        r"\b(?:monthly|annual|yearly|per[- ]user|per[- ]seat|subscription|licen[cs]e|plan|seat)\s+"
        r"(?:fee|fees|cost|costs|price|prices|rate|rates)\b",
        r"\b(?:reduced|lower|better|cheaper|special|discounted|preferential|custom|loyalty)\s+"
        r"(?:rate|rates|price|prices|pricing)\b",
        r"\b(?:what(?:'s| is| are)|whats)\s+(?:the\s+)?(?:cost|costs|fee|fees|rate|rates)\b",
        r"\b(?:price|prices|pricing|priced|price list|price sheet|rate card|per[- ]seat (?:cost|"
        r"price|fee))\b(?!\s+(?:column|columns|field|fields|custom field|property))",
        r"\b(?:send|get|give|need|request|want|provide|prepare|share|email|receive|update|"
        r"revise|issue)\s+(?:me\s+|us\s+)?(?:a |an |the |our |your |my |updated |new |formal )?"
        r"(?:price |sales |custom |renewal |official |written )?quotes?\b",
        r"\b(?:price|sales|custom|renewal|formal|official|written|updated|revised|annual)\s+"
        r"quotes?\b|\bquotes? (?:for|on|in) (?!the (?:comment|task|description|editor))|"
        r"\bquotation\b|\bquote (?:number|#|no\.?)",
        # discounts and deals
        r"\b(?:discount|discounts|discounted|coupon|coupons|promo|promos|promo code|promotion|"
        r"promotions|promotional|voucher|vouchers|cheaper|price match|black friday|cyber monday)\b",
        r"\b(?:better|special|volume|bulk|nonprofit|non-profit|ngo|charity|student|education(?:al)?|"
        r"academic|startup|loyalty|annual|multi-?year) (?:deal|deals|pricing|price|rate|rates|"
        r"plan pricing|licen[cs]e|licen[cs]es|licensing|program)\b",
        # contracts, renewals, procurement, payment terms
        r"\bcontract(?:s|ual)?\b(?!\s+(?:template|templates|project|projects|tracker|tracking|"
        r"task|tasks|management|workflow|field|pipeline|clauses|review (?:template|project|"
        r"workflow)))(?!\s+with\s+(?:our|my|a|the|their|his|her|an)\s+(?:\w+\s+)?(?:client|"
        r"clients|customer|customers|supplier|vendor|partner|contractor|freelancer)s?\b)",
        r"\b(?:the|our|my|upcoming|next|annual|yearly|subscription|contract|plan|licen[cs]e)\s+"
        r"renewals?\b(?!\s+of (?:the|my|our|a) (?:card|credit card|passport|domain|certificate|"
        r"ssl|token|key))|\brenewal (?:terms|date|price|pricing|quote|notice|invoice|period|"
        r"discussion|conversation|call|contract|options)\b|\bauto-?renew\w*\b|"
        r"\b(?:subscription|contract|plan|licen[cs]e|agreement)\s+(?:\w+\s+)?renews?\b|"
        r"\brenew(?:ing)? (?:our|my|the) (?:contract|subscription|plan|licen[cs]e|agreement|deal|"
        r"annual)\b",
        r"\bpro-?\s?forma\b",
        r"\b(?:order form|purchase order|po number|p\.o\. number|procurement|vendor (?:form|"
        r"registration|onboarding|setup|set-up|assessment)|supplier (?:form|registration|"
        r"onboarding)|w-?9|msa|master (?:services?|subscription) agreement|statement of work|"
        r"enterprise (?:pricing|price|deal|agreement|contract|quote|licen[cs]e|licensing|sales)|"
        r"net[ -]?(?:15|30|45|60|90)|payment terms|wire transfer|tax[- ]exempt(?:ion)?)\b",
        r"\bpay(?:ing)? (?:by|via|with|through) (?:invoice|bank transfer|wire|cheque|check|ach|"
        r"sepa|purchase order|po)\b",
        r"\b(?:buy|purchase|order|pay for)\s+(?:\d+|more|additional|extra|another|a few|"
        r"\w+ more)\s+(?:seats|licen[cs]es|users|members)\b",
        r"\b(?:talk|speak|chat|connect me|put me in touch)\s+(?:to|with)\s+(?:your\s+|the\s+|a\s+|"
        r"someone (?:in|from|on)\s+)?(?:sales|account (?:team|manager|executive)|billing team|"
        r"finance team)\b",
        r"\b(?:extend|extension of|extending|longer)\s+(?:my\s+|our\s+|the\s+)?(?:free\s+)?"
        r"trial\b|\btrial extension\b",
        r"\b(?:annual|yearly) (?:billing|commitment|prepay\w*|invoicing)\b|"
        r"\bbilled (?:annually|yearly)\b",
        # currency, tax and how to pay
        r"\b(?:pay|paying|payment|billed|billing|invoiced?|invoices|charged?|subscription)\b"
        r"[^.?!\n]{0,40}\bcurrenc(?:y|ies)\b|\bcurrenc(?:y|ies)\b[^.?!\n]{0,40}\b(?:pay|paying|"
        r"payment|billed|billing|invoiced?|invoices|charged?|pricing|plan|subscription)\b",
        r"\b(?:invoiced|billed|charged|pay|priced|quote|invoices?) in (?:eur|euros?|usd|dollars|"
        r"gbp|pounds|inr|rupees|brl|reais|local currency)\b",
        r"\b(?:tax|taxes|vat|sales tax|gst)\s+(?:charged|rate|amount|on (?:my|our|the) "
        r"(?:invoice|bill))\b|\b(?:charge|charged|charging|charges)\s+(?:us\s+|me\s+)?"
        r"(?:tax|taxes|vat|gst|sales tax)\b",
        r"\bpay(?:ing|ment)?\s+(?:for\s+(?:\w+\s+){0,3})?(?:with|by|via|using|through)\s+"
        r"(?:a\s+)?(?:bitcoin|btc|crypto\w*|usdc|ethereum|paypal|bank transfer|wire|cheque|check|"
        r"invoice|ach|sepa|credit card|debit card|amex|american express|apple pay|google pay|"
        r"purchase order|po|upi|pix|boleto)\b|\bpayment methods?\b|\b(?:credit|debit) card\b",
        r"\b(?:fix|correct|adjust|amend|reissue|re-issue|redo|dispute)\s+(?:the|our|my|this|that)\s+"
        r"(?:\w+\s+)?(?:invoice|bill)\b",
        r"\b(?:charge|charges|bill|invoice|subscription|price)\s+(?:has\s+)?(?:went up|go up|"
        r"increased|doubled|is higher|got higher|jumped)\b|\bprice (?:increase|hike|change)\b",
        # other languages
        r"\b(?:precio|precios|cuanto (?:cuesta|cuestan|cobran|vale|sale|seria|costaria)|"
        r"cotizacion|presupuesto|descuento|descuentos|tarifa|tarifas|contrato|contratos|"
        r"factura (?:incorrecta|equivocada)|cobro (?:doble|duplicado|indebido)|"
        r"(?:cobrado|cobraron|cobran) dos veces)\b",
        r"\b(?:prix|tarif|tarifs|combien (?:coute|ca coute|coutent|pour|ca fait)|devis|remise|"
        r"rabais|contrat|facture (?:erronee|incorrecte)|facture deux fois|double facturation)\b",
        r"\b(?:preis|preise|kosten|kostet|wie ?viel kostet|angebot|rabatt|vertrag|"
        r"vertragsverlangerung|doppelt (?:berechnet|abgebucht))\b",
        r"\b(?:preco|precos|quanto (?:custa|custam|sai|fica)|orcamento|desconto|descontos|"
        r"cobrado duas vezes|cobranca (?:duplicada|indevida))\b",
        r"\b(?:kitne (?:ka|ki|ke|mein|main|me)|kitna (?:price|cost|paisa|paise|charge|lagega|hai)|"
        r"kitni (?:price|cost|fees?)|qeemat|keemat|kimat|qimat)\b",
    )),
    "refund": _rules((
        r"\b(?:refund|refunds|refunded|refunding|refundable|non-?refundable)\b",
        r"\bmoney back\b|\b(?:return|give back|give me back|send back|want back|get back)\s+"
        r"(?:my|our|the)\s+(?:money|payment|funds)\b",
        r"\b(?:reimburse|reimbursed|reimbursement|reimbursing)\b",
        r"\bcharge-?backs?\b|\bcharge back\b",
        r"\b(?:dispute|disputing|disputed|contest|contesting|reverse|reversing)\s+(?:the\s+|this\s+|"
        r"a\s+|my\s+|our\s+)?(?:charge|payment|transaction)\b",
        r"\b(?:open(?:ed)?|fil(?:e|ed)|rais(?:e|ed)|start(?:ed)?)\s+(?:a\s+)?(?:dispute|claim)\s+"
        r"(?:with|through|at)\s+(?:my|our|the)\s+(?:bank|card|credit card|paypal)\b",
        r"\b(?:charge|charges|payment|money|transaction)\s+(?:\w+\s+)?(?:returned|reversed|"
        r"refunded|credited back)\b|\b(?:want|need|get|have)\s+(?:that|it|this)\s+(?:reversed|"
        r"refunded|returned|credited back)\b|"
        r"\b(?:charge|charges|payment|money|amount|extra|difference|overpayment|balance|fee|fees)"
        r"\s+(?:\w+\s+)?back\b|"
        r"\b(?:cancel+ed|cancel+ation)\b[^.!?\n]{0,60}\b(?:still|again|another)\s+(?:\w+\s+)?"
        r"(?:charged|billed|charge|invoice)\b|\bstill (?:charged|charging|billed|billing)\b",
        r"\b(?:credit (?:back|note)|credit (?:it )?(?:back )?to my (?:card|account)|"
        r"pro-?rat(?:ed|a) (?:credit|refund)|compensat(?:e|ed|ion))\b",
        r"\b(?:reembolso|reembolsar|reembolsen|reembolsa|reembolsado|devolucion del dinero|"
        r"devuelv\w* (?:mi|el|nuestro) dinero|devolver\w* (?:mi|el|nuestro) dinero|"
        r"mi dinero de vuelta|remboursement|rembourser|remboursez|"
        r"rembourse|ruckerstattung|erstattung|erstatten|geld zuruck|estorno|"
        r"(?:meu|nosso) dinheiro de volta|dinheiro de volta|devolucao do dinheiro|"
        r"(?:paise|paisay|pese|paisa|raqam|raqm)\s+(?:\w+\s+)?(?:wapas|wapis|vapas|vapis|lautao|"
        r"lotao|return)|"
        r"refund (?:karo|kar do|karein|chahiye))\b",
    )),
    "legal_or_compliance": _rules((
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
        # other languages
        r"\b(?:abogado|abogados|abogada|demanda judicial|demandar|demandaremos|los demandare|"
        r"denuncia|denunciar|tribunales|juicio|avocat|avocats|poursuite|poursuivre|poursuites|"
        r"en justice|porter plainte|anwalt|anwaltin|rechtsanwalt|klage|verklagen|gericht|"
        r"abmahnung|datenschutz\w*|advogado|advogados|advogada|processo judicial|na justica|"
        r"acao judicial|procon|vakeel|wakeel|wakil|adalat|court case|legal notice|"
        r"case (?:karunga|karenge|kar dunga|kar denge|kar doonga))\b",
    )),
    "human_request": _rules((
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
        r"\b(?:insaan|insan|banda|bande|aadmi|agent|manager|supervisor|human|person|"
        r"representative|kisi)\s+(?:se|say|sy)\s+(?:baat|bat)\b|\b(?:mujhe|mujhay|humein)\s+"
        r"(?:call|phone)\s+(?:karo|karein|kar do|kar dein|karna)\b",
    )),
    "objection": _rules((
        r"\bnot worth (?:it|the (?:money|price|cost|subscription|fee|hassle)|what (?:we|i) "
        r"(?:pay|are paying|'re paying|paid)|paying|\w+ (?:dollars|euros|bucks))",
        r"\b(?:too|so|very|way too|really|insanely|ridiculously|crazy|overly|super|extremely|"
        r"far too)\s+(?:\w+\s+)?(?:expensive|pricey|costly)\b|\boverpriced\b|\bcosts? too much\b"
        r"|\b(?:can't|cannot|can not|no longer) (?:afford|justify)\b|\brip-?off\b|\brip off\b|"
        r"\bwaste of (?:money|our money|my money|budget)\b|\bexpensive\b|\bpricey\b",
        rf"\b(?:switch(?:ing)?|mov(?:e|ing)|migrat(?:e|ing)|go(?:ing)?(?: back)?|"
        rf"chang(?:e|ing)|port(?:ing)?|jump(?:ing)?(?: ship)?|head(?:ing)?|run(?:ning)?)\s+"
        rf"(?:\w+\s+){{0,2}}?(?:over\s+)?to\s+{_COMPETITOR}\b",
        rf"\b(?:cambiar(?:nos)?|pasar(?:nos)?|migrar|trocar|mudar|passer|wechseln|umsteigen)\s+"
        rf"(?:\w+\s+){{0,2}}?(?:a|al|para|pra|pro|para o|ao|zu|auf|nach|vers|sur)\s+"
        rf"{_COMPETITOR}\b",
        rf"\b(?:consolidat\w*|standardi[sz]\w*|settl(?:e|ing)|go(?:ing)? with|went with|"
        rf"pushing for|prefer(?:ring)?|adopt(?:ing)?|replac(?:e|ing) (?:you|techcorp|it) with)\s+"
        rf"(?:on\s+|with\s+)?{_COMPETITOR}\b",
        rf"\b{_COMPETITOR}(?:'s)?\s+(?:\w+\s+){{0,2}}?(?:did|does|do|has|had|have|offers?|"
        rf"offered|gives?|gave|supports?|supported|handles?|handled|covers?)\b[^.?!\n]{{0,50}}?"
        rf"(?:out of the box|for free|better|already|years ago|why (?:can't|cannot|don't|"
        rf"doesn't|won't) (?:you|techcorp|yours))",
        r"\b(?:won't|will not|not) be (?:a |your )?customers? (?:for )?(?:much )?(?:longer|"
        r"anymore|any more)\b|\b(?:you(?:'ll| will)|you're going to|about to) lose (?:us|our "
        r"business|a customer)\b|\b(?:stop|cease) being (?:a |your )?customers?\b",
        r"\b(?:not sure|unsure|wonder(?:ing)?|doubt(?:ing)?|question(?:ing)?)\s+"
        r"(?:if\s+|whether\s+)?"
        r"(?:this|it|techcorp|the (?:plan|subscription|product|tool))\s*(?:is|'s|is still|still)\s+"
        r"(?:\w+\s+)?worth\b|\b(?:isn't|is not|aren't|no longer|not)\s+(?:\w+\s+)?worth (?:it|the|"
        r"paying|what)\b",
        r"\bsubscription\s+(?:\w+\s+)?(?:cancel|band|khatam|khatm)\s+(?:karni|karna|karo|"
        r"kar do|kardo|karein|kar dein|chahta|chahti|chahiye)\b",
        r"\b(?:cancel+(?:l?ing)?|terminat(?:e|ing)|end(?:ing)?|discontinu(?:e|ing)|"
        r"stop paying for|get out of|exit)\s+(?:my|our|the|this)\s+(?:\w+\s+)?(?:subscription|"
        r"subscriptions|plan|contract|membership|service|techcorp|paid plan|licen[cs]e|"
        r"licen[cs]es|account)\b",
        rf"\b(?:going to|gonna|will|'ll|want to|wanna|plan to|planning to|thinking (?:about|of)|"
        rf"considering|decided to|about to|ready to|have to|need to|would like to|'d like to|"
        rf"wish to|might|may|probably|'re|'m|are|am)\s+(?:just\s+|probably\s+|have to\s+|"
        rf"seriously\s+|"
        rf"simply\s+)?cancel+(?:l?ing)?\b(?!\s+(?:a|an|the|this|that|my|our|one|all|these|those|"
        rf"any|some|each|every|his|her|their)?\s*(?:\w+\s+)?{_NOT_SUBSCRIPTION}\b)",
        r"\b(?:thinking|considering|thinking about|looking at|looking into|evaluating|exploring|"
        r"shopping for|comparing|seriously considering)\s+(?:\w+\s+)?(?:alternatives?|"
        r"competitors?|other (?:tools|options|vendors|providers|solutions|platforms))\b",
        rf"\b(?:leav(?:e|ing)|quit(?:ting)?|ditch(?:ing)?|dump(?:ing)?|drop(?:ping)?|"
        rf"abandon(?:ing)?|done with|walk(?:ing)? away from|churn(?:ing)?)\s+(?:techcorp|you\b|"
        rf"you guys|your (?:product|service|platform|app|tool|company|software)|"
        rf"(?:this|the) (?:platform|service|product|tool|software)\b|for {_COMPETITOR})",
        r"\b(?:not|won't|will not|don't plan to|do not plan to|no longer|unlikely to|"
        r"not going to|doubt we'll|doubt we will)\s+(?:be\s+)?renew(?:ing|al)?\b",
        r"\b(?:we|i)(?:'ll| will| are going to|'re going to| are| am|'re|'m)?\s+(?:walk|walking|"
        r"walk away|go elsewhere|look elsewhere|looking elsewhere)\b(?!\s+(?:the|a|an|this|that|"
        r"our|my|it|them|through|you through|on|to|over|in|around|back))",
        r"\bstop (?:billing|charging) (?:us|me)\b",
        r"\b(?:price|prices|pricing|cost|costs|fee|fees)\s+(?:is|are|seems?|looks?)\s+"
        r"(?:\w+\s+)?(?:insane|crazy|ridiculous|outrageous|too high|steep|absurd|a joke|"
        r"a rip-?off|robbery|unreasonable|unjustified)\b",
        rf"\b{_COMPETITOR}\s+(?:is|are|does|do|has|have|offers?|gives?|seems?|looks?|costs?)\s+"
        rf"(?:\w+\s+){{0,3}}?(?:better|cheaper|less|more features|faster|nicer|easier|for free|"
        rf"free|included)\b",
        r"\b(?:worse|slower|clunkier|buggier|more expensive|pricier|behind) than\b|"
        r"\b(?:better|cheaper|faster|easier) than (?:you|techcorp|yours|your (?:product|app|tool|"
        r"service|platform))\b",
        r"\b(?:convince|persuade) (?:me|us)\b|\b(?:why|reason) (?:should|would|to) (?:i|we) "
        r"(?:stay|keep|continue|remain|pay|renew|not (?:leave|switch|cancel))\b|"
        r"\bgive (?:me|us) (?:a |one )?(?:good |single )?reason (?:not )?(?:to|why)\b",
        r"\bnot (?:getting|seeing) (?:any |enough |the )?value\b|\bvalue for (?:the )?money\b",
        r"\b(?:regret|regretting|mistake)\s+(?:\w+\s+)?(?:choosing|picking|buying|signing up|"
        r"paying for|switching to|moving to)\s+(?:for\s+)?(?:techcorp|you|this|your)\b",
        # other languages
        r"\b(?:muy caro|demasiado caro|caro demais|muito caro|trop cher|trop chere|zu teuer|"
        r"bahut mehenga|bohat mehnga|bohot mehnga|bahut mehnga|mehenga|mehnga|mahanga|"
        r"cancelar (?:mi|la|nuestra|a|minha|nossa|o) (?:suscripcion|cuenta|assinatura|conta|plan|"
        r"plano|contrato)|resilier|resiliation|kundigen|kundigung|vamos a cancelar|vou cancelar|"
        r"vamos cancelar|no vale la pena|nao vale a pena|ne vaut pas le prix|lohnt sich nicht)\b",
    )),
    "unknown_high_risk": _rules((
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
        r"changed|deleted|using|used|took|taken|reset|is in|has access|had access|gained)\s+"
        r"(?:\w+\s+){0,2}?(?:into|in to|in|over|access to|my|our)\b",
        r"\bimpersonat\w* (?:techcorp|you|your|us|our|support)\b",
        r"\b(?:email|emails|message|messages|sms|text|texts|call|calls|link)\b[^.!?\n]{0,60}?"
        r"\b(?:wasn't|was not|weren't|were not|isn't|is not|aren't|not)\s+(?:really\s+)?from "
        r"(?:you|techcorp|your team|support)\b",
        r"\b(?:pretending|claiming|posing|purporting) (?:to be|as) (?:from )?(?:techcorp|you|"
        r"your (?:team|support|company)|support)\b",
        r"\b(?:former|ex-?|fired|terminated|departed)\s*(?:employee|staff|member|colleague|"
        r"contractor|admin|co-?worker)s?\b[^.!?\n]{0,60}\b(?:still (?:has|have|can)|downloading|"
        r"logged in|logging in|deleting|exporting|accessing)\b",
        # data loss
        r"\b(?:all|every|entire|whole|most|half)\s+(?:of\s+)?(?:my|our|the)?\s*(?:\w+\s+)?"
        r"(?:projects?|data|tasks|work|files|workspace|boards?|history|content|attachments)\s+"
        r"(?:\w+\s+){0,2}?(?:is\s+|are\s+|has\s+|have\s+|was\s+|were\s+|got\s+|just\s+|"
        r"suddenly\s+)?(?:been\s+)?(?:gone|disappeared|vanished|deleted|lost|missing|wiped|"
        r"erased|empty|blank)\b",
        r"\b(?:projects|data|workspace|tasks|everything|files|boards)\s+(?:seem|seems|appear|"
        r"appears)\s+to\s+(?:be|have been)\s+(?:gone|wiped|erased|deleted|lost|missing)\b",
        r"\b(?:projects|data|workspace|tasks|everything|files|boards)\s+(?:\w+\s+){0,2}?"
        r"(?:disappeared|vanished|wiped|gone missing|been wiped|been erased|is gone|are gone|"
        r"was wiped)\b",
        r"\b(?:lost|lose|losing)\s+(?:all|everything|years|months|our entire|my entire|"
        r"the entire|all of)\b|\bdata loss\b|\beverything (?:is |was |has been )?(?:gone|wiped|"
        r"lost)\b",
        # press
        r"\b(?:journalist|journalists|reporter|reporters|press inquiry|press enquiry|"
        r"media inquiry|media enquiry|on the record|going to the press|go to the press|"
        r"going public|go public|contact(?:ing)? the (?:press|media)|tell the (?:press|media)|"
        r"techcrunch|the verge|new york times|wall street journal|bloomberg|reuters|"
        r"forbes|financial times|business insider|zdnet|venturebeat|the guardian|bbc|cnn)\b",
        r"\bwriting (?:an?|the) (?:article|story|piece|feature|report|column)\b|"
        r"\bnews (?:story|article|piece|report|outlet|site)\b|"
        r"\b(?:your )?(?:pr|press|media|communications) (?:team|department|office|contact)\b|"
        r"\bfor (?:an? |our |my )?(?:article|story|newspaper|magazine|podcast|publication)\b",
        # self-harm and threats
        r"\b(?:kill(?:ing)? myself|hurt(?:ing)? myself|harm(?:ing)? myself|end(?:ing)? my life|"
        r"take my (?:own )?life|suicid\w*|self[- ]harm|don't want to (?:live|be alive)|"
        r"want to die|better off dead|no reason to live|cut myself|end it all|"
        r"(?:do|done) (?:something |anything )?to myself|(?:don't|do not) (?:know if i |think i |"
        r"really )?want to (?:be here|live|exist|go on|wake up)|me voy a matar|quiero morir|"
        r"suicidarme|me tuer|mich umbringen|me matar|khudkushi|khud kushi)\b",
        r"\b(?:i'll|i will|i'm going to|i am going to|gonna|we will|we'll|i'd like to|i want to)\s+"
        r"(?:\w+\s+)?(?:kill|hurt|shoot|stab|beat up|attack|strangle|punch)\s+(?:you|your|them|"
        r"everyone|somebody|someone|him|her)\b",
        r"\b(?:destroy|ruin|burn down)\s+(?:you|your (?:company|business|office|reputation|"
        r"lives))\b|\b(?:watch your back|i know where (?:you|your)|you'll regret this|"
        r"you will regret this|come to your (?:office|house|home)|bomb threat|bomb your)\b",
    )),
}

# Short quoted spans are names and titles ("the "Vendor onboarding" project"), not requests.
_QUOTED: Final = re.compile(r'"[^"\n]{1,60}"|(?<![a-z])\'[^\'\n]{1,40}\'(?![a-z])')
# An offer, not a request: "feel free to ring me if that's easier, but email is fine".
_OFFER: Final = re.compile(
    r"\b(?:feel free to|you (?:can|could|may) (?:also )?|you're welcome to|happy to|"
    r"(?:don't|do not) hesitate to|no need to)\s*$|\bif (?:that's|that is|it's|it is) easier\b|"
    r"\bif (?:needed|necessary|anything is unclear|you (?:have|need) (?:any )?(?:more )?"
    r"(?:questions|info|information|details))\b|\bemail is (?:absolutely |perfectly |also )?fine\b"
)
# A request taken back in the same breath: "I don't want a refund, just …".
_DECLINED: Final = re.compile(
    r"\b(?:don't|do not|not|never|no longer|without)\s+(?:\w+\s+)?(?:want|wanting|need|needing|"
    r"asking for|looking for|requesting|after|expecting|interested in|seeking)\s+"
    r"(?:(?!(?:i|we|you|but|just|need|want|please|so)\b)[\w'-]+,?\s+){0,4}$|"
    r"\bno need (?:for|of|to) (?:a |an |any )?$"
)
_CAN_DECLINE: Final = frozenset({"refund", "human_request", "pricing_or_contract"})

# Typos of words the rules rely on: an edit away from one of these is read as that word.
_TYPO_TARGETS: Final = (
    "refund", "refunds", "refunded", "reimburse", "reimbursement", "chargeback", "lawyer",
    "lawyers", "attorney", "lawsuit", "solicitor", "subpoena", "discount", "discounts",
    "pricing", "overcharged", "supervisor", "representative", "competitor", "journalist",
    "money", "human", "contract", "subscription", "expensive", "cancel", "cancellation",
    "hacked", "quotation", "procurement", "invoice", "compensation", "manager", "person",
    "gdpr",
)
# Real words an edit away from a target, which must stay as they are.
_REAL_WORDS: Final = frozenset({
    "layer", "layers", "player", "lower", "honey", "monkey", "humane", "humans",
    "contact", "contacts", "contacted", "contrast", "expansive", "cancer", "cancels",
    "canceled", "cancelled", "backed", "hacker", "hackers", "packed", "racked", "jacked",
    "lacked", "sacked", "hacks", "invoices", "invoiced", "managed", "manages", "manage",
    "managers", "persons", "personal", "persona", "prison", "poison", "parson", "refind",
    "quotations", "pricking", "prising", "competitors", "journalists",
    "supervisors", "representatives", "subscriptions", "solicitors", "attorneys", "lawsuits",
    "refunding", "reimbursed", "reimburses", "discounted", "chargebacks", "monday", "mondays",
    "moneys", "humor",
})


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _typo_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for target in _TYPO_TARGETS:
        for variant in _deletions(target) | {target}:
            index.setdefault(variant, target)
    return index


_TYPOS: Final = _typo_index()
# The two first letters a typo of a target can have: people rarely mistype those, and looking
# only at words that begin like a target keeps the correction cheap.
_TYPO_OPENINGS: Final = frozenset(
    opening for t in _TYPO_TARGETS for opening in (t[:2], t[0] + t[2], t[1] + t[0]))
_TOKEN: Final = re.compile(r"[a-z]{4,}")


def _correct(folded: str) -> str:
    """Return the text with near-misses of the rules' key words spelled right."""
    fixes: dict[str, str] = {}
    for word in set(_TOKEN.findall(folded)):
        if word[:2] in _TYPO_OPENINGS and word not in _REAL_WORDS and word not in _TYPO_TARGETS:
            target = _TYPOS.get(word) or next(
                (t for variant in _deletions(word)
                 if (t := _TYPOS.get(variant)) is not None and abs(len(t) - len(word)) <= 1),
                None)
            if target is not None:
                fixes[word] = target
    if not fixes:
        return folded
    typo = re.compile(r"\b(?:" + "|".join(fixes) + r")\b")
    return typo.sub(lambda match: fixes[match.group(0)], folded)


def triggers(text: str) -> dict[str, str]:
    """Return, per content reason the message triggers, the words that triggered it."""
    prepared = _correct(_QUOTED.sub(" ", guardrails.fold(text)))
    starts = guardrails.word_starts(prepared)
    found: dict[str, str] = {}
    for reason, rules in _RULES.items():
        if (words := _first_meant(reason, rules, prepared, starts)) is not None:
            found[reason] = words
    disputed = _first_meant("pricing_or_contract", _CHARGE_DISPUTE, prepared, starts)
    if disputed is not None and "refund" not in found:
        found.setdefault("pricing_or_contract", disputed)
    return found


def _first_meant(reason: str, rules: guardrails.Rules, prepared: str,
                 starts: frozenset[str]) -> str | None:
    """Return the first match the customer means: not declined, and for a person not an offer."""
    for match in rules.finditer(prepared, starts):
        if reason in _CAN_DECLINE and _DECLINED.search(prepared, 0, match.start()):
            continue
        if reason == "human_request" and _is_offer(prepared, match):
            continue
        return match.group(0).strip()
    return None


def _is_offer(prepared: str, match: re.Match[str]) -> bool:
    start = max(prepared.rfind(p, 0, match.start()) for p in ".!?\n") + 1
    ends = [i for p in ".!?\n" if (i := prepared.find(p, match.end())) != -1]
    sentence_end = min(ends, default=len(prepared))
    return bool(_OFFER.search(prepared, start, match.start())
                or _OFFER.search(prepared[start:sentence_end]))


def detect(text: str, *, sentiment: float | None = None,
           searches_without_match: int = 0) -> Escalation:
    """Return whether the message needs a person, with every reason why and its sentiment.

    `sentiment` defaults to `sentiment.score(text)`; `searches_without_match` is how many
    knowledge-base searches for this message found nothing (two make `no_kb_match`).
    """
    value = sentiment_score(text) if sentiment is None else sentiment
    found = set(triggers(text))
    if value < NEGATIVE_SENTIMENT_THRESHOLD:
        found.add("negative_sentiment")
    if searches_without_match >= NO_KB_MATCH_SEARCHES:
        found.add("no_kb_match")
    if guardrails.check_input(text).tripped:
        found.add("prompt_injection")
    reasons = tuple(reason for reason in REASONS if reason in found)
    return Escalation(escalate=bool(reasons), reasons=reasons, sentiment=value)

