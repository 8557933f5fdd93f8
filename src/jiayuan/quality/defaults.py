"""The survey every company can start from: the quarterly owner satisfaction survey, in
Chinese as owners read it. Data, not interface text: a company edits a copy of it in its
own words."""

from jiayuan.quality.models import Area, Dimension, QuestionKind

R, S, M, T = QuestionKind.RATING, QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TEXT


def _rating(text: str, dimension: str, area: str) -> dict:
    return {"kind": R, "text": text, "dimension": dimension, "area": area, "required": True}


def default_template() -> dict:
    """{title, intro, questions}: the arguments of `services.template_create`."""
    return {
        "title": "业主满意度季度调查",
        "intro": (
            "尊敬的业主：您好！为持续提升物业服务品质，诚邀您对本季度的服务进行评价。"
            "1 分表示非常不满意，5 分表示非常满意。问卷约需 3 分钟，感谢您的支持！"
        ),
        "questions": [
            _rating("小区安全秩序（门岗值守、巡逻、车辆管理）", Dimension.CONTENT, Area.SECURITY),
            _rating("公共区域保洁（楼道、电梯、垃圾清运）", Dimension.CONTENT, Area.CLEANING),
            _rating("绿化养护（修剪、浇灌、病虫害防治）", Dimension.CONTENT, Area.GREENING),
            _rating("设施设备维护与维修质量", Dimension.CONTENT, Area.REPAIRS),
            _rating(
                "客服人员的服务态度（礼貌、耐心、主动）", Dimension.ATTITUDE, Area.SERVICE_DESK
            ),
            _rating("保安、保洁、维修人员的文明礼貌", Dimension.ATTITUDE, Area.GENERAL),
            _rating("报修响应与上门的及时性", Dimension.EFFICIENCY, Area.REPAIRS),
            _rating("投诉、咨询的处理速度与结果反馈", Dimension.EFFICIENCY, Area.SERVICE_DESK),
            _rating("对物业服务的总体满意程度", Dimension.EXPERIENCE, Area.GENERAL),
            _rating("小区居住环境与社区氛围", Dimension.EXPERIENCE, Area.GENERAL),
            {
                "kind": S,
                "text": "您最常用的联系物业方式是？",
                "options": ["业主小程序/App", "服务热线", "前台当面", "微信群"],
                "area": Area.SERVICE_DESK,
                "required": True,
            },
            {
                "kind": M,
                "text": "您认为最需要改进的方面（可多选）",
                "options": ["安全秩序", "环境卫生", "绿化养护", "维修服务", "客服响应", "收费透明"],
                "area": Area.GENERAL,
                "required": False,
            },
            {
                "kind": T,
                "text": "其他意见或建议",
                "area": Area.GENERAL,
                "required": False,
            },
        ],
    }
