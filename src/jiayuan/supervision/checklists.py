"""The default checklists, one per area, as a property company's quality department writes
them: each item (description, points, critical) is something an inspector can see on a walk.
Used by the "create default checklists" action and by the demo."""

from jiayuan.supervision.models import Area

# (description, points, critical)
DEFAULT_CHECKLISTS: dict[str, tuple[str, list[tuple[str, int, bool]]]] = {
    Area.CLEANING: (
        "保洁品质巡查表",
        [
            ("大堂地面无污渍、无水渍，玻璃门明亮无手印", 10, False),
            ("电梯轿厢内壁、按键面板洁净，地面无杂物", 10, False),
            ("楼道及消防通道无堆放杂物、无积尘", 10, True),
            ("垃圾桶按时清运，桶身干净，周边无散落垃圾", 10, False),
            ("垃圾分类投放点标识清晰，分类桶无混投满溢", 10, False),
            ("地下车库地面无油污、无积水，排水沟通畅", 10, False),
            ("公共卫生间无异味，洗手液、纸巾补充到位", 10, False),
            ("外围道路、广场无烟头纸屑，落叶及时清扫", 10, False),
            ("保洁工具摆放整齐，清洁剂标签清楚、上锁保管", 10, True),
            ("保洁员着装统一、佩戴工牌，作业时摆放警示牌", 10, False),
        ],
    ),
    Area.SECURITY: (
        "秩序维护品质巡查表",
        [
            ("岗亭人员在岗在位，着装规范，精神饱满", 10, False),
            ("访客及外来车辆登记完整，放行核实到位", 10, False),
            ("消防通道畅通，无车辆占用", 10, True),
            ("消防器材齐全有效，灭火器压力在绿区", 10, True),
            ("监控中心双人值守，监控画面无黑屏", 10, True),
            ("巡逻按时打卡，巡更记录完整", 10, False),
            ("车库车辆停放有序，无乱停乱放", 10, False),
            ("对讲机通话清晰，交接班记录完整", 10, False),
            ("高空抛物、违规装修等情况发现后及时上报", 10, False),
        ],
    ),
    Area.ENGINEERING: (
        "工程设备品质巡查表",
        [
            ("配电房整洁，绝缘垫、警示标识齐全，门锁完好", 10, True),
            ("水泵房无渗漏，水泵运行无异响，运行记录完整", 10, False),
            ("电梯年检标志在有效期内，五方对讲正常", 10, True),
            ("公共照明完好，楼道灯、路灯无不亮", 10, False),
            ("消防水池、水箱水位正常，阀门处于正确状态", 10, True),
            ("设备房无杂物堆放，温湿度正常", 10, False),
            ("维修工单按时响应，维修后现场清理干净", 10, False),
            ("二次供水水箱清洗消毒记录在有效期内", 10, False),
            ("工具、备件台账清楚，领用登记完整", 10, False),
            ("公共设施（门禁、道闸、单元门）运行正常", 10, False),
        ],
    ),
    Area.SERVICE_DESK: (
        "客服中心品质巡查表",
        [
            ("前台人员按时到岗，着装整洁，佩戴工牌", 10, False),
            ("业主来访起身相迎、主动问候，使用礼貌用语", 10, False),
            ("来电铃响三声内接听，规范应答", 10, False),
            ("报修、投诉当场登记，工单信息完整", 10, False),
            ("投诉在规定时限内回复，回访记录完整", 10, True),
            ("公告栏信息及时更新，过期通知已撤下", 10, False),
            ("服务台面整洁，资料摆放有序", 10, False),
            ("收费处明码标价，收费公示齐全", 10, False),
            ("业主档案保管规范，个人信息不外泄", 10, True),
        ],
    ),
    Area.GREENING: (
        "绿化养护品质巡查表",
        [
            ("草坪修剪整齐，高度适宜，无明显斑秃", 10, False),
            ("绿篱、灌木修剪造型整齐，无枯枝", 10, False),
            ("乔木无病虫害，无倒伏、断枝隐患", 10, True),
            ("绿地内无垃圾、无杂草丛生", 10, False),
            ("花坛花卉长势良好，及时补种", 10, False),
            ("浇灌及时，无干旱枯萎，无积水", 10, False),
            ("施药时设置警示标识，农药安全存放", 10, True),
            ("绿化工具摆放整齐，作业后现场清理干净", 10, False),
        ],
    ),
}
