"""Static data for the names check: Chinese surnames and readings, literal glosses of
common name characters, Russian first names in German spelling, candidate context words.

Kept apart from the logic so the tables can grow without touching the matchers.
"""

from __future__ import annotations

# fmt: off
# Common single-character Chinese surnames (roughly the 200 most frequent). Rare surnames that
# are also frequent in transliterations of foreign names (普 拉 布 克 ...) are left out on purpose:
# the candidate finder must not read 普京 as a Chinese person.
SINGLE_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁房滕屈"
    "饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵"
    "苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝区朴乐盖习"
)

COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "诸葛", "司马", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "万俟", "闻人",
    }
)

# Surname readings that pypinyin gets wrong (it reads the common word, not the surname).
SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou", "朴": "piao",
    "查": "zha", "乐": "yue", "盖": "ge", "覃": "qin", "缪": "miao", "翟": "zhai",
    "尉迟": "yuchi", "万俟": "moqi", "长孙": "zhangsun", "秘": "bi", "员": "yun",
}

# Literal English glosses of characters common in Chinese names. A weak model that translates
# a name character by character produces these ("King Yi" for 王毅, "Li Strong" for 李强).
GLOSSES: dict[str, tuple[str, ...]] = {
    "王": ("king",), "李": ("plum",), "张": ("stretch", "open", "sheet"), "陈": ("display", "old"),
    "杨": ("poplar", "willow"), "黄": ("yellow",), "周": ("week", "circle", "cycle"),
    "徐": ("slow", "slowly"), "孙": ("grandson",), "马": ("horse",), "朱": ("red", "vermilion"),
    "胡": ("beard", "barbarian", "recklessly"), "高": ("high", "tall"), "林": ("forest", "woods"),
    "罗": ("net",), "梁": ("beam", "bridge"), "谢": ("thanks", "thank"),
    "许": ("allow", "perhaps", "promise"), "韩": ("korea", "korean"), "曾": ("once", "ever"),
    "田": ("field",), "叶": ("leaf", "leaves"), "程": ("journey", "procedure"),
    "苏": ("revive", "soviet"), "丁": ("nail", "fourth"), "任": ("appoint", "duty"),
    "沈": ("sink",), "姜": ("ginger",), "钟": ("clock", "bell"), "陆": ("land", "continent"),
    "范": ("model", "pattern"), "金": ("gold", "golden"), "石": ("stone", "rock"),
    "夏": ("summer",), "方": ("square", "side", "direction"), "白": ("white",),
    "孟": ("eldest",), "熊": ("bear",), "江": ("river",), "段": ("section", "paragraph"),
    "雷": ("thunder",), "侯": ("marquis",), "龙": ("dragon",), "史": ("history",),
    "陶": ("pottery",), "黎": ("dawn", "black"), "贺": ("congratulate", "congratulations"),
    "毛": ("hair", "wool", "fur"), "万": ("ten thousand", "myriad"), "钱": ("money",),
    "严": ("strict", "stern"), "洪": ("flood",), "武": ("martial", "military"), "戴": ("wear",),
    "孔": ("hole",), "向": ("towards",), "汤": ("soup",), "常": ("often", "usual"),
    "温": ("warm", "warmth"), "康": ("health", "healthy"), "文": ("text", "culture", "literature"),
    "牛": ("cow", "ox", "cattle"), "安": ("peace", "safe", "security"), "齐": ("together", "neat"),
    "易": ("easy", "change"), "乔": ("tall",), "庄": ("village", "solemn"), "章": ("chapter",),
    "岳": ("mountain",), "欧": ("europe", "european"), "关": ("close", "shut", "pass"),
    "兰": ("orchid",), "焦": ("burnt", "focus"), "左": ("left",), "柳": ("willow",),
    "甘": ("sweet",), "祝": ("wish", "bless"), "包": ("bag", "package", "wrap"),
    "宁": ("peace", "peaceful", "tranquil", "rather"), "舒": ("comfortable", "stretch"),
    "梅": ("plum", "plum blossom"), "童": ("child", "children"), "凌": ("ice",),
    "毕": ("finish", "complete"), "单": ("single", "bill"), "季": ("season", "quarter"),
    "成": ("become", "success", "accomplish"), "苗": ("seedling", "sprout"), "谷": ("valley", "grain"),
    "盛": ("prosperous", "grand", "flourishing"), "曲": ("song", "bend", "tune"),
    "骆": ("camel",), "蓝": ("blue",), "路": ("road", "way"), "游": ("swim", "tour", "travel"),
    "辛": ("hard", "spicy"), "管": ("pipe", "tube", "manage"), "华": ("china", "splendid", "chinese", "magnificent"),
    "房": ("house", "room"), "解": ("solve", "explain"), "阳": ("sun", "sunny", "positive"),
    "时": ("time", "hour"), "农": ("farm", "agriculture"), "古": ("ancient", "old"),
    "吉": ("lucky", "auspicious"), "简": ("simple", "brief"), "车": ("car", "vehicle"),
    "连": ("connect", "link"), "景": ("scenery", "view"), "党": ("party",), "宫": ("palace",),
    "冷": ("cold",), "卫": ("guard", "defend"), "米": ("rice", "meter"), "全": ("whole", "all", "complete"),
    "边": ("side", "edge", "border"), "师": ("teacher", "master"), "和": ("peace", "harmony", "and"),
    "仇": ("hatred", "enemy"), "商": ("business", "commerce", "merchant"), "沙": ("sand",),
    "荣": ("glory", "honor", "honour"), "明": ("bright", "clear", "tomorrow"), "池": ("pond", "pool"),
    "查": ("check", "investigate"), "习": ("practice", "habit", "study"), "贾": ("merchant",),
    # characters common in given names
    "毅": ("perseverance", "resolute", "firm", "determination", "fortitude"),
    "强": ("strong", "strength", "powerful", "strongly"), "平": ("flat", "peace", "level", "calm", "even"),
    "国": ("country", "nation", "state"), "春": ("spring",), "伟": ("great", "mighty"),
    "军": ("army", "military"), "建": ("build", "construct"), "志": ("will", "ambition", "aspiration"),
    "海": ("sea", "ocean"), "红": ("red",), "英": ("hero", "brave", "england", "british"),
    "新": ("new",), "东": ("east",), "光": ("light", "bright"), "辉": ("brilliance", "glory"),
    "永": ("eternal", "forever"), "庆": ("celebrate", "celebration"), "宏": ("grand", "vast"),
    "祥": ("auspicious", "lucky"), "福": ("blessing", "fortune", "luck"), "德": ("virtue", "morality"),
    "民": ("people",), "忠": ("loyal", "loyalty"), "勇": ("brave", "courage"), "杰": ("outstanding", "hero"),
    "云": ("cloud", "clouds"), "山": ("mountain", "hill"), "水": ("water",), "玉": ("jade",),
    "美": ("beautiful", "beauty"), "丽": ("beautiful", "pretty"), "芳": ("fragrant",),
    "秀": ("elegant", "beautiful"), "静": ("quiet", "calm", "still"), "敏": ("quick", "agile", "sensitive"),
    "燕": ("swallow",), "雪": ("snow",), "梦": ("dream",), "鹏": ("roc",), "飞": ("fly", "flying"),
    "涛": ("wave", "waves", "billows"), "波": ("wave", "waves"), "峰": ("peak", "summit"),
    "刚": ("just", "firm", "hard"), "健": ("healthy", "health"), "发": ("develop", "hair"),
    "贵": ("expensive", "noble", "precious"), "富": ("rich", "wealthy"), "利": ("profit", "benefit", "sharp"),
    "正": ("right", "straight", "correct"), "义": ("justice", "righteousness"),
    "仁": ("benevolence", "kindness"), "智": ("wisdom", "wise", "intelligence"),
    "信": ("letter", "trust", "faith"), "学": ("learn", "study"), "生": ("life", "born", "student"),
    "力": ("strength", "force", "power"), "友": ("friend", "friendship"), "松": ("pine",),
    "树": ("tree",), "桥": ("bridge",), "亮": ("bright", "light"), "晓": ("dawn", "daybreak"),
    "日": ("sun", "day"), "月": ("moon", "month"), "星": ("star",), "天": ("sky", "heaven", "day"),
    "宇": ("universe", "space"), "洋": ("ocean",), "河": ("river",), "湖": ("lake",),
    "虎": ("tiger",), "凤": ("phoenix",), "鹤": ("crane",), "乐": ("happy", "music", "joy"),
    "喜": ("happy", "joy", "like"), "近": ("near", "close", "recent"), "克": ("gram", "overcome"),
    "泽": ("marsh", "pool"), "晨": ("morning", "dawn"), "欣": ("happy", "glad"),
    "佳": ("good", "fine"), "慧": ("wisdom", "intelligent"), "恩": ("grace", "kindness"),
    "思": ("think", "thought"), "立": ("stand", "establish"), "宝": ("treasure", "precious"),
    "君": ("monarch", "lord", "gentleman"), "中": ("middle", "center", "centre"),
    "大": ("big", "great", "large"), "小": ("small", "little"), "长": ("long", "chief"),
    "家": ("home", "family"), "雄": ("male", "heroic", "mighty"), "远": ("far", "distant"),
    "达": ("reach", "attain"), "进": ("advance", "enter", "progress"), "胜": ("victory", "win"),
    "青": ("green", "young"), "源": ("source", "origin"), "兴": ("prosper", "rise", "flourish"),
    "保": ("protect", "keep"), "清": ("clear", "clean", "pure"), "冰": ("ice",),
    "珍": ("treasure", "precious", "rare"), "珠": ("pearl",), "菊": ("chrysanthemum",),
    "莲": ("lotus",), "竹": ("bamboo",), "凯": ("triumph", "victory"), "瑞": ("auspicious",),
    "超": ("super", "exceed"), "翔": ("soar",), "爱": ("love",), "南": ("south",),
    "西": ("west",), "北": ("north",), "一": ("one",), "三": ("three",), "洁": ("clean", "pure"),
    "勤": ("diligent",), "良": ("good", "kind"), "善": ("kind", "good"), "秋": ("autumn", "fall"),
    "冬": ("winter",), "晶": ("crystal",), "琴": ("zither", "piano"), "铁": ("iron",),
    "钢": ("steel",), "银": ("silver",), "铭": ("inscription", "engrave"), "锋": ("edge", "blade"),
}

# Russian / Ukrainian first names in German spelling -> usual English press form.
# DISTINCT ones are not German first names, so a following surname with a Slavic
# spelling pattern (sch, tsch, w) is enough; the others also need a typical ending.
RUSSIAN_FIRST_NAMES_DISTINCT = {
    "Sergej": "Sergei", "Wladimir": "Vladimir", "Dmitri": "Dmitry", "Dmitrij": "Dmitry",
    "Jewgeni": "Yevgeny", "Jewgenij": "Yevgeny", "Walentina": "Valentina", "Alexej": "Alexei",
    "Alexei": "Alexei", "Michail": "Mikhail", "Juri": "Yuri", "Jurij": "Yuri", "Iwan": "Ivan",
    "Andrej": "Andrei", "Tatjana": "Tatyana", "Jelena": "Yelena", "Natalja": "Natalya",
    "Anatoli": "Anatoly", "Anatolij": "Anatoly", "Wiktor": "Viktor", "Wassili": "Vasily",
    "Witali": "Vitaly", "Witalij": "Vitaly", "Wolodymyr": "Volodymyr", "Oleksandr": "Oleksandr",
    "Pjotr": "Pyotr", "Grigori": "Grigory", "Ramsan": "Ramzan", "Waleri": "Valery",
    "Walerij": "Valery", "Wjatscheslaw": "Vyacheslav", "Swetlana": "Svetlana",
    "Ljudmila": "Lyudmila", "Jekaterina": "Yekaterina", "Darja": "Darya", "Arkadi": "Arkady",
    "Gennadi": "Gennady", "Nadeschda": "Nadezhda", "Wadim": "Vadim", "Timofej": "Timofei",
    "Matwej": "Matvei", "Fjodor": "Fyodor", "Ilja": "Ilya", "Pawel": "Pavel",
    "Jaroslaw": "Yaroslav", "Mykola": "Mykola", "Dmytro": "Dmytro", "Andrij": "Andriy",
    "Olena": "Olena", "Serhij": "Serhiy", "Jewhen": "Yevhen", "Oleksij": "Oleksiy",
    "Nikolai": "Nikolai", "Kirill": "Kirill", "Oleg": "Oleg", "Igor": "Igor", "Xenija": "Kseniya",
    "Jewgenija": "Yevgenia", "Walentin": "Valentin", "Wiktorija": "Viktoria", "Marija": "Mariya",
    "Sergei": "Sergei",
}
RUSSIAN_FIRST_NAMES_SHARED = {
    "Maria": "Maria", "Anna": "Anna", "Alexander": "Alexander", "Olga": "Olga", "Boris": "Boris",
    "Irina": "Irina", "Julia": "Yulia", "Anton": "Anton", "Denis": "Denis", "Roman": "Roman",
    "Maxim": "Maxim", "Galina": "Galina", "Larissa": "Larisa", "Leonid": "Leonid",
    "Konstantin": "Konstantin", "Ruslan": "Ruslan", "Taras": "Taras", "Petro": "Petro",
    "Ksenia": "Ksenia", "Nikita": "Nikita",
}

# Chinese candidate contexts. Titles may stand right before or right after a name;
# speech/action verbs right after it.
ZH_TITLES = (
    "国家主席", "主席", "总统", "副总统", "总理", "副总理", "首相", "外长", "外交部长", "部长",
    "副部长", "发言人", "大使", "总书记", "书记", "委员长", "国务委员", "委员", "主任", "院长",
    "市长", "省长", "县长", "局长", "厅长", "司令员", "司令", "将军", "教授", "博士", "先生",
    "女士", "记者", "董事长", "总裁", "总经理", "经理", "主编", "校长", "议员", "议长", "代表",
    "专家", "研究员", "学者", "作家", "导演", "演员", "队长", "教练", "主持人", "负责人",
    "创始人", "首席执行官", "副主席", "常委", "部长助理", "秘书长", "处长", "警官", "律师",
    "医生", "法官", "检察官", "官员", "店主", "老板", "店长", "厂长", "村民", "市民", "游客",
    "居民", "学生", "工人", "农民", "船长", "站长", "社长", "馆长", "所长", "主管", "员工",
    "职员", "导游", "司机", "志愿者", "网友", "村长", "镇长", "区长", "州长", "总监", "董事",
    "合伙人", "分析师", "经济学家", "科学家", "工程师", "老师", "同学", "女儿", "儿子", "妻子",
    "丈夫", "父亲", "母亲",
)
ZH_VERBS = (
    "表示", "说", "称", "指出", "强调", "会见", "会晤", "宣布", "认为", "介绍", "透露", "回答",
    "告诉", "发表", "访问", "出席", "主持", "签署", "提出", "呼吁", "批评", "警告", "补充",
    "坦言", "致辞", "讲话", "解释", "否认", "承认", "证实", "回应", "谈到", "提到", "会谈",
    "通电话", "抵达", "出访", "率团", "当选", "就任", "辞职", "表态", "重申", "希望", "建议",
    "报道", "发言", "接受", "称赞", "感谢", "祝贺", "致电", "撰文", "写道", "说明", "宣称",
    "问道", "答道", "笑着说", "对记者", "告诉记者", "接受采访", "感叹", "提醒", "表明", "举行",
)
# Particles that may stand right before a name (the left edge of a candidate).
ZH_LEFT_PARTICLES = frozenset("的和与同及对向据由被让给把跟请邀经")
# Characters that never start or continue a given name here (function words).
ZH_NOT_GIVEN = frozenset(
    "的了是在和与说称表也都就而及或被把对向从为以于这那其之着过吗呢吧啊等将已并但又还仍再"
    "会时们个不没有"
)
# Characters typical of transliterated foreign names: a "given name" containing one
# is far more likely part of 马克龙 (Macron) than a Chinese given name.
ZH_TRANSLIT_CHARS = frozenset(
    "克尔斯夫娃诺基特德拉罗莫布普维亚蒂奥索科谢洛舍契兹茨伊纳曼登顿坦莱迪里卡萨"
    "彼埃沃哈霍戈朗默"
)

# Characters whose reading in a given name is often not the one a Pinyin library picks.
AMBIGUOUS_NAME_CHARS = frozenset("长乐行重朝传调觉藏都和会单曾解仇区朴查盖降率省")
# fmt: on
