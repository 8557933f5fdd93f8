"""The safety rules find every emergency owners describe, however they put it, and leave
ordinary requests alone."""

import pytest

from jiayuan.triage import safety
from jiayuan.triage.text import normalize

# (text, a rule expected to fire)
EMERGENCIES = [
    # Gas, with the homophones owners type.
    ("厨房里一股很浓的煤气味，头都晕了", "gas_leak"),
    ("闻到燃气味！！！快来人", "gas_leak"),
    ("我家然气好像漏了", "gas_leak"),
    ("楼道里全是天然气的味道", "gas_leak"),
    ("煤汽味好重 怎么办", "gas_leak"),
    ("燃气管子嘶嘶响 应该是漏气了", "gas_leak"),
    ("燃气报警器一直在叫", "gas_leak"),
    ("一股臭鸡蛋味，是不是漏气", "gas_leak"),
    ("ＷＯ家　天燃气泄漏了！！", "gas_leak"),
    ("液化气罐漏了", "gas_leak"),
    ("请问闻到煤气味应该打哪个电话", "gas_leak"),
    # Fire and smoke.
    ("3栋楼道着火了！！！", "fire_smoke"),
    ("楼下垃圾桶起火了", "fire_smoke"),
    ("邻居家窗户往外冒黑烟", "fire_smoke"),
    ("地下车库有浓烟", "fire_smoke"),
    ("楼道里烟很大 看不清", "fire_smoke"),
    ("配电房那边有明火", "fire_smoke"),
    ("厨房油锅烧起来了", "fire_smoke"),
    ("烟感报警器响个不停", "fire_smoke"),
    ("阳台上的杂物火苗窜得很高", "fire_smoke"),
    ("电动车在楼道里冒烟了", "fire_smoke"),
    # Sparks, burning smell, electric shock.
    ("插座冒火花", "sparks_burning"),
    ("开关一按就打火", "sparks_burning"),
    ("电表箱里有烧焦的味道", "sparks_burning"),
    ("家里有股焦糊味，像电线烧了", "sparks_burning"),
    ("热水器漏电，刚才被电了一下", "sparks_burning"),
    ("孩子摸了路灯杆触电了", "sparks_burning"),
    ("电线噼啪响", "sparks_burning"),
    ("配电箱烧黑了", "sparks_burning"),
    ("空调插头熔化了", "sparks_burning"),
    ("有股塑料烧的味", "sparks_burning"),
    # Trapped in a lift, a falling car.
    ("电梯困人！！", "lift_trapped"),
    ("我被困在电梯里了，快来救", "lift_trapped"),
    ("2号楼电梯关了个老人在里面", "lift_trapped"),
    ("电梯卡在两层中间，里面有人", "lift_trapped"),
    ("电悌坏了，我妈困在里面", "lift_trapped"),
    ("孩子卡在电梯里出不来", "lift_trapped"),
    ("电梯突然往下掉了好几层", "lift_trapped"),
    ("电梯门夹人了", "lift_trapped"),
    ("电梯停在半空不动了", "lift_trapped"),
    ("电梯溜梯，太吓人了", "lift_trapped"),
    # Burst pipes and flooding.
    ("水管爆了！！！", "burst_flood"),
    ("家里爆管了到处是水", "burst_flood"),
    ("厨房水管裂了 水一直喷", "burst_flood"),
    ("暖气片爆了，热水哗哗往外流", "burst_flood"),
    ("楼上漏水把我家淹了", "burst_flood"),
    ("地下车库被水淹了", "burst_flood"),
    ("客厅水漫金山了", "burst_flood"),
    ("总阀关不住，水止不住", "burst_flood"),
    ("天花板漏水像下雨一样", "burst_flood"),
    ("雨水倒灌进一楼", "burst_flood"),
    ("卫生间满地都是水，已经流到卧室", "burst_flood"),
    ("消防栓被撞断了在喷水", "burst_flood"),
    # Sewage coming up.
    ("下水道污水倒灌进家里", "sewage_overflow"),
    ("马桶往外冒污水", "sewage_overflow"),
    ("化粪池满出来了 臭死了", "sewage_overflow"),
    ("地漏反水，全是脏水", "sewage_overflow"),
    ("楼下窨井往外冒黑水", "sewage_overflow"),
    ("污水横流，小区门口没法走", "sewage_overflow"),
    # Things falling from height, collapse.
    ("外墙瓷砖掉下来了，差点砸到人", "falling_object"),
    ("楼上窗户玻璃掉下来了", "falling_object"),
    ("空调外机摇摇欲坠", "falling_object"),
    ("高空坠物砸坏了我的车", "falling_object"),
    ("有人高空抛物", "falling_object"),
    ("广告牌快掉了 下面都是人", "falling_object"),
    ("卫生间吊顶塌了", "falling_object"),
    ("大树被风吹断倒下来压住了路", "falling_object"),
    ("小区路面塌陷了一个大坑", "falling_object"),
    ("被上面掉下来的东西砸伤了", "falling_object"),
    # People in danger.
    ("楼下有人打架，拿着刀", "people_in_danger"),
    ("有人在撬隔壁的门", "people_in_danger"),
    ("孩子在小区里走丢了", "people_in_danger"),
    ("我妈在家晕倒了，门反锁着", "people_in_danger"),
    ("三岁孩子被反锁在家里", "people_in_danger"),
    # In English.
    ("Someone is trapped in the elevator!!", "lift_trapped"),
    ("I smell gas in the stairwell", "gas_leak"),
    ("water pipe burst in the kitchen", "burst_flood"),
]

ORDINARY = [
    "厨房水龙头一直滴水",
    "水龙头关不住，一直滴",
    "燃气灶火苗很小",
    "燃气费怎么交",
    "燃气安全检查是哪天",
    "电梯门关不上",
    "电梯太慢了，等了好久",
    "楼上漏水，卫生间天花板有水印",
    "马桶堵了",
    "下水道有点堵",
    "地漏有异味",
    "楼道灯坏了",
    "插座没电",
    "漏电保护器老是跳闸",
    "车位被占了",
    "楼道里有人抽烟，烟味很大",
    "楼上装修太吵",
    "物业费能开发票吗",
    "建议多种点树",
    "感谢保安师傅",
    "没有煤气味了，谢谢",
    "确认不是漏气",
    "电梯广告屏太吵",
    "小区外墙什么时候粉刷",
    "物业对我们的困难不闻不问",
    "晚上路灯太暗",
]


@pytest.mark.parametrize(("text", "rule"), EMERGENCIES)
def test_every_emergency_phrasing_sets_off_its_rule(text, rule):
    assert rule in [r.code for r in safety.matches(normalize(text))]


def test_at_least_sixty_phrasings_and_every_rule_is_tried():
    assert len(EMERGENCIES) >= 60
    assert {rule for _text, rule in EMERGENCIES} == {rule.code for rule in safety.RULES}


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_requests_are_not_emergencies(text):
    assert safety.matches(normalize(text)) == []


def test_a_negated_mention_does_not_count_but_another_one_does():
    assert safety.matches(normalize("没有闻到煤气味")) == []
    fired = safety.matches(normalize("刚才没有煤气味，现在又闻到煤气味了"))
    assert [r.code for r in fired] == ["gas_leak"]
    # "没人管" before a danger is no negation of the danger.
    assert [r.code for r in safety.matches(normalize("一直没人管煤气味"))] == ["gas_leak"]


def test_enforce_raises_urgency_and_sets_an_unrelated_category():
    gas = safety.matches(normalize("闻到煤气味"))
    outcome = safety.enforce("inquiry", "billing", "normal", gas)
    assert (outcome.kind, outcome.category, outcome.urgency) == ("repair", "gas", "emergency")
    assert outcome.forced == {"kind", "category", "urgency"}


def test_enforce_keeps_a_related_category_a_complaint_and_praise():
    fire = safety.matches(normalize("插座冒烟了"))
    outcome = safety.enforce("complaint", "electrical", "urgent", fire)
    assert (outcome.kind, outcome.category, outcome.urgency) == (
        "complaint",
        "electrical",
        "emergency",
    )
    assert outcome.forced == {"urgency"}
    praise = safety.enforce("praise", "plumbing", "normal", safety.matches(normalize("爆管")))
    assert praise.kind == "praise"


def test_enforce_without_a_rule_changes_nothing():
    outcome = safety.enforce("inquiry", "billing", "normal", [])
    assert (outcome.kind, outcome.category, outcome.urgency, outcome.forced) == (
        "inquiry",
        "billing",
        "normal",
        frozenset(),
    )
