"""A small labelled corpus for tests: a few requests per label, each said a few ways."""

import json
from pathlib import Path

# (kind, category, urgency, phrasings)
INTENTS = [
    (
        "repair",
        "plumbing",
        "normal",
        ["厨房水龙头一直滴水", "卫生间下水很慢", "洗手池下面的水管渗水"],
    ),
    ("repair", "plumbing", "emergency", ["家里水管爆了到处喷水", "楼上漏水把我家淹了"]),
    ("repair", "electrical", "normal", ["客厅的灯不亮了", "卧室插座没电了", "阳台灯开关坏了"]),
    ("repair", "electrical", "urgent", ["家里整个停电了", "总闸一直跳闸合不上"]),
    ("repair", "elevator", "urgent", ["三号楼电梯坏了不动", "电梯按钮没反应停在一楼"]),
    ("repair", "elevator", "emergency", ["电梯困人了里面有老人", "我被困在电梯里了"]),
    ("repair", "gas", "emergency", ["厨房闻到很大的煤气味", "燃气管道好像在漏气"]),
    ("repair", "doors_locks", "normal", ["单元门禁刷卡没反应", "防盗门锁芯坏了打不开"]),
    ("complaint", "noise_neighbor", "normal", ["楼上装修太吵了天天砸墙", "邻居半夜唱歌吵得睡不着"]),
    ("complaint", "cleaning", "normal", ["楼道里的垃圾好几天没人清理", "电梯间的地面脏得不行"]),
    ("complaint", "parking", "normal", ["我的车位又被别人占了", "消防通道天天停满车没人管"]),
    (
        "inquiry",
        "billing",
        "normal",
        ["物业费怎么交", "今年的停车管理费是多少钱", "物业费能开发票吗"],
    ),
    ("suggestion", "greening", "normal", ["建议小区多种点树", "建议把草坪旁边加个花坛"]),
    ("praise", "security", "normal", ["感谢保安师傅帮我找回钱包", "夜班保安巡逻很认真要表扬"]),
]
OPENINGS = ["", "你好，", "物业你好，", "麻烦一下，"]
ENDINGS = ["", "！！", "，麻烦尽快处理", "，谢谢"]


def rows() -> list[dict]:
    return [
        {"text": opening + phrase + ending, "kind": kind, "category": category, "urgency": urgency}
        for kind, category, urgency, phrases in INTENTS
        for phrase in phrases
        for opening in OPENINGS
        for ending in ENDINGS
    ]


def write_corpus(path: Path, corpus_rows: list[dict] | None = None) -> Path:
    path.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in corpus_rows or rows()),
        encoding="utf-8",
    )
    return path
