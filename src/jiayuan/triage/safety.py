"""Explicit emergency rules, applied after the model: whatever the model thinks, a text that
speaks of a gas smell, fire or smoke, someone trapped in a lift, a burst pipe or flooding,
sparks or a burning smell, something falling from height or sewage coming up is an
emergency.

Recall comes first: a false emergency costs a phone call, a missed one can cost a life. So
the patterns are wide (typos and homophones owners type included), a mention only counts as
negated when a negation stands right before it ("没有煤气味", "不是漏水"), and "it happened
earlier" or "how do I report a gas leak" still fires. A rule is the same for every estate
and every language of the UI: the patterns read the normalised text (`text.normalize`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Owners misspell by sound: 然气, 煤汽, 天燃气; lifts are 电梯 or 电悌 or 直梯.
_GAS = r"(?:燃气|然气|煤气|煤汽|天然气|天燃气|液化气|瓦斯|管道气)"
_LIFT = r"(?:电梯|电悌|直梯|升降梯|轿厢)"
# Within one clause: no sentence or clause punctuation between the two words.
_CLAUSE = r"[^,.!?;。，！？；、]"
# A negation right before a mention, with at most a verb of noticing between.
_NEGATED = re.compile(r"(?:没有|没|无|不是|并非|并没有|未|不)(?:闻到|发现|看到|见到|有|是|再)?\s?$")


@dataclass(frozen=True)
class Rule:
    code: str
    # The category given when the model's is unrelated to the danger.
    category: str
    # Categories the danger may be filed under (the model's choice is kept if among them).
    related: frozenset[str]
    pattern: re.Pattern


def _rule(code: str, category: str, related: set[str], *patterns: str) -> Rule:
    return Rule(code, category, frozenset(related | {category}), re.compile("|".join(patterns)))


RULES: tuple[Rule, ...] = (
    _rule(
        "gas_leak",
        "gas",
        set(),
        rf"{_GAS}{_CLAUSE}{{0,8}}?(?:味|漏|泄|嘶嘶|臭)",
        rf"{_GAS}报警",
        r"(?<![胎球])漏气",
        r"臭鸡蛋|嘶嘶|冒气",
        rf"味.{{0,12}}{_GAS}|{_GAS}.{{0,6}}(?:没关|破|裂|钻)",
        r"gas (?:leak|smell)|smell(?:s|ing)? (?:of )?gas",
    ),
    _rule(
        "fire_smoke",
        "fire_safety",
        {"electrical", "gas"},
        r"着火|起火|失火|火灾(?!隐患|演习|演练|险)|火警(?!演习|演练)",
        r"冒烟|冒黑烟|冒白烟|浓烟|黑烟|烟雾(?!报警器(?:安装|检查|检测))|烟很大|烟好大",
        r"明火|火光|火势|烧起来|烧着了|蹿火|窜火|冒火|火星",
        rf"火苗(?!{_CLAUSE}{{0,3}}(?:小|黄|红|蓝|不稳|忽大忽小|打不着|点不着))",
        r"(?:烟感|烟雾报警|消防报警|火灾报警|火警报警)\S{0,6}(?:响|叫|报警|鸣)",
        r"点着|烟味.{0,12}(?:越来越|看不清|呛得)|看不清",
        r"\bfire\b|smoke|burning",
    ),
    _rule(
        "sparks_burning",
        "electrical",
        {"fire_safety", "gas"},
        r"火花|电弧|拉弧|打火(?!机)|spark",
        r"烧焦|焦糊|糊味|焦味|烧糊|(?:塑料|橡胶|电线|胶皮)(?:烧)?的?(?:味|臭)",
        r"漏电(?!保护|开关)|触电|被电(?:了|到|击)|电到(?:人|了|我|孩子)|电击",
        rf"(?:电线|电缆|插座|插头|开关|配电箱|配电柜|电表箱|电箱|电闸|空开|线路|电路|充电器|电瓶|电动车)"
        rf"{_CLAUSE}{{0,6}}(?:冒烟|冒火|烧|起火|着火|熔|融化|爆|噼啪|啪啪|炸|发烫冒)",
    ),
    _rule(
        "lift_trapped",
        "elevator",
        set(),
        rf"{_LIFT}.{{0,15}}(?<![犯贫])困(?![难扰惑])|(?<![犯贫])困(?![难扰惑]).{{0,10}}{_LIFT}",
        rf"(?:关|锁|卡|闷)在{_CLAUSE}{{0,3}}{_LIFT}",
        rf"{_LIFT}.{{0,15}}(?:出不来|关在里面|关里面|人在里面|有人在里面|里面有人|里面还有人"
        rf"|关着人|被关|夹(?:住|到|伤)?(?:了)?(?:人|手|脚|腿|孩子|小孩|老人))",
        rf"{_LIFT}.{{0,10}}(?:卡|停)(?:在|住)?{_CLAUSE}{{0,4}}(?:半空|两层|两楼|中间|之间)",
        rf"{_LIFT}.{{0,8}}(?:下坠|坠落|急坠|掉下去|往下掉|突然掉|失控|自由落体)",
        r"溜梯|冲顶|蹲底|trapped|stuck in (?:the )?(?:lift|elevator)",
        rf"{_LIFT}.{{0,15}}(?:在里面|里面有|有人在敲|我在里|关在|出不)",
        rf"在{_LIFT}里.{{0,15}}(?:出不|卡|停|坏|不动|不开|断电|掉|困|救|黑|灭)",
    ),
    _rule(
        "burst_flood",
        "plumbing",
        {"hvac", "civil", "parking"},
        r"爆管|爆水管|水管.{0,6}(?:爆|裂|崩|断)",
        r"(?:管子|管道|主管|总管|暖气管|暖气片|热水管|水表|阀门|总阀|角阀|软管|接头|消防栓|消火栓)"
        rf"{_CLAUSE}{{0,6}}(?:爆|崩|裂开|炸|断了|喷|关不住|止不住)",
        rf"喷水|水{_CLAUSE}{{0,6}}(?:喷|哗哗|止不住|停不下来|往外冒|往外涌|涌出|涌进)",
        r"淹|水漫|漫水|漫(?:进|到|出|过|了|上来)|倒灌|泡(?:在)?水里|(?:被|都|全)泡|泡坏|泡烂",
        r"水(?:深|没过|已经到|到了).{0,4}(?:脚踝|膝盖|小腿|脚面|腰)",
        r"积水.{0,6}(?:进屋|进家|没过|很深|越来越深)",
        r"哗哗|哗啦啦|水.{0,3}(?:在涨|越来越多|越积越多)|一地(?:的)?水|一大滩|整层.{0,4}湿|burst|flood",
        r"像下雨一样|跟下雨一样|下大雨一样|水帘洞|一片汪洋|成了?河|(?:全|都|满地)(?:都)?是水",
    ),
    _rule(
        "sewage_overflow",
        "plumbing",
        {"cleaning"},
        r"(?:污水|粪水|脏水|黑水|臭水|化粪池|下水道|下水管|下水口|排污|污水管|污水井|窨井|马桶|地漏"
        r"|粪便|屎)"
        r".{0,8}(?:倒灌|冒出|冒上来|往上冒|往外冒|冒水|冒污水|冒黑水|冒臭水|漫|溢|反涌|涌|反水|返水"
        r"|往外|喷|满出来|满了|流到|流进|流了一地|淌|到处都是)",
        r"(?:反|返)(?:水|污水|脏水|臭水|黑水)|(?:往上|往外)(?:返|反)|sewage",
        r"粪水|污水横流|(?:屎|粪|尿)\S{0,4}(?:一地|到处)",
    ),
    _rule(
        "falling_object",
        "civil",
        {"greening", "security", "doors_locks", "parking", "elevator"},
        r"坠物|坠落|高空抛物|抛物",
        r"(?:瓷砖|墙砖|外墙|墙皮|玻璃|窗户|窗框|窗扇|纱窗|空调外机|外机|广告牌|招牌|石块|水泥块|混凝土"
        r"|吊顶|天花板|屋顶|顶棚|护栏|栏杆|树枝|大树|树干|花盆|雨棚|防盗网|晾衣架|石头|砖头|砖块|瓦片"
        r"|吊灯|灯罩|屋檐|装饰板|铝板|幕墙|东西|啥|什么)"
        rf"{_CLAUSE}{{0,8}}(?:掉下来|掉下|掉落|坠|砸|要掉|快掉|摇摇欲坠|塌|倒了|倒下|断裂"
        r"|脱落下来|往下掉|掉了下来)",
        r"(?:被|差点|险些|差一点|差点儿)被?砸|砸(?:到|中|伤|死|坏)",
        r"坍塌|塌陷|塌方|垮塌|倒塌|塌了|(?:往下|往楼下)(?:掉|扔|丢|抛)|掉下去|掀(?:起来|下来|翻)",
        r"(?:瓷砖|玻璃|外墙|栏杆|护栏|防盗窗|保温板|铁皮|窗|碎片)"
        rf"{_CLAUSE}{{0,8}}(?:掉|碎|晃|断|翘|飞)",
        r"falling|fell from|almost hit",
    ),
    # People in danger: violence, a crime under way, someone collapsed or locked in, a lost
    # child. Not in the list, but the desk treats them as emergencies too.
    _rule(
        "people_in_danger",
        "security",
        {"doors_locks", "other", "elevator", "civil"},
        r"打架|打起来|斗殴|拿着?刀|持刀|动刀|砍人|捅人|流血|持棍|追人|抢劫|抢包|撬|入室",
        r"(?:小偷|贼).{0,6}(?:在|正在|快|现在)|跟着我|跟踪|尾随|拉.{0,8}(?:孩|女孩|男孩).{0,3}走",
        r"走丢|走失|孩子不见|小孩不见|拐",
        r"晕倒|昏倒|摔倒|倒地|不省人事|没动静|喘不过气|呼吸困难|中毒|跳楼|轻生|自杀|救命|救护车|\b120\b",
        r"反锁.{0,20}(?:孩|老人|宝宝|婴儿|煤气|燃气|火)|(?:孩|宝宝|婴儿|老人).{0,10}(?:反锁|锁在|关在)",
        r"\bhelp\b",
    ),
)


def matches(normalized: str) -> list[Rule]:
    """The rules a normalised text sets off, in the order of RULES. A rule counts when one
    of its mentions is not negated right before it."""
    fired = []
    for rule in RULES:
        for found in rule.pattern.finditer(normalized):
            if not _NEGATED.search(normalized[max(0, found.start() - 6) : found.start()]):
                fired.append(rule)
                break
    return fired


@dataclass(frozen=True)
class Outcome:
    kind: str
    category: str
    urgency: str
    # The fields the rules decided instead of the model.
    forced: frozenset[str]


# Kinds that describe a danger happening now when the text sets off a rule: the question
# "闻到煤气味怎么办" needs a technician, not an answer. A complaint or a word of praise
# about a danger keeps its kind: the urgency alone gets it seen at once.
_REPAIR_INSTEAD = frozenset({"inquiry", "suggestion"})


def enforce(kind: str, category: str, urgency: str, fired: list[Rule]) -> Outcome:
    """The model's labels after the rules that fired: urgency is emergency; the category
    is the first rule's unless the model's is related to one of the dangers; an inquiry or
    a suggestion becomes a repair."""
    if not fired:
        return Outcome(kind, category, urgency, frozenset())
    forced = set()
    if urgency != "emergency":
        urgency = "emergency"
        forced.add("urgency")
    if not any(category in rule.related for rule in fired):
        category = fired[0].category
        forced.add("category")
    if kind in _REPAIR_INSTEAD:
        kind = "repair"
        forced.add("kind")
    return Outcome(kind, category, urgency, frozenset(forced))
