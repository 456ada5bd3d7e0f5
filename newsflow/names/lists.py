"""Shipped lists for round two of the names check: names that are known to be someone or
something else, fixed expressions, first names, Chinese word-boundary affixes and literal
glosses of characters common in Chinese place names.

Data only; the rules that use them are in :mod:`newsflow.names.evidence`,
:mod:`newsflow.names.segment` and :mod:`newsflow.names.index`.
"""

from __future__ import annotations

from newsflow.names.tables import (
    RUSSIAN_FIRST_NAMES_DISTINCT,
    RUSSIAN_FIRST_NAMES_SHARED,
    ZH_LEFT_PARTICLES,
    ZH_TITLES,
)

# fmt: off
# Well-known names (people, places, prizes) that sit close to names a glossary holds: a near
# miss that IS one of these is that name, not a misspelling (Metz is not Merz, Scholl is not
# Scholz, Gutierrez is not Guterres). Lower case; compared to the whole near-miss window.
WELL_KNOWN_NAMES = frozenset(
    """
    metz mainz minsk pinsk linz graz bonn bern kiel kehl kassel basel marl moers murcia merano
    mertens merkel merck marx mars maas meuse merseburg merzig mersin murmansk mersey
    scholl scholes schulz schultz schulze schell schall schiller scholten
    sakharov sacharow zakharchenko zaharia
    gutierrez gutteridge guterson
    lavra lavrentiev lavrenty lavrovka lavrovich
    pushkin putnam putney pudong
    shogun blinkov blinker blinkers
    zeleny zelenograd selena
    moskva moskvitch moskvich moskovsky moscovici
    berlinale berliner berliners berlioz berline
    kievan kyivan kyivstar pekingese
    wong xiang xiamen maoist maoism
    litvinenko lukashenko lukashenka
    navalny navalnaya medvedev medvedeva kadyrov kadyrova nabiullina matviyenko matvienko
    prigozhin surovikin gerasimov belousov patrushev naryshkin bortnikov volodin
    poroshenko tymoshenko yanukovych zaluzhny zaluzhnyi syrskyi budanov kuleba sybiha yermak
    klitschko klychko shmyhal umerov reznikov podolyak
    steinmeier baerbock habeck lindner pistorius faeser weidel
    kohl schroeder schröder adenauer brandt schmidt
    macron barnier borne attal bayrou lecornu
    biden sullivan austin harris trump vance rubio hegseth
    gutenberg kremlinology
    """.split()
)

# A near miss right before one of these names a prize, an institution or a place named after
# someone or something else ("Sakharov Prize", "Metz Cathedral"): it is never rewritten.
INSTITUTION_NOUNS = frozenset(
    """
    prize prizes award awards medal medals laureate laureates foundation foundations institute
    institution university college school academy street square avenue boulevard road bridge
    cathedral church museum library hospital airport station stadium arena center centre gallery
    hall park river lake company group bank memorial lecture lectures fund trust society festival
    cup trophy doctrine plan line
    """.split()
)

# English words that are also names (china the porcelain, may the verb): a glossary name
# written in lower case is only wrong when a source mention is left for it (counted like a
# near miss); any other name in lower case is the name with its capitals lost.
COMMON_WORDS = frozenset(
    """
    china turkey chad jordan georgia nice reading bath mobile split cork guinea niger
    may june august mark bill rose grace hope faith joy will don pat sue rob bush brown white
    black green rice wood king long young little price cook baker smith miller hunter fisher
    carter turner cooper ward fox wolf bishop pope rich gay guy job lee li wang sun ma
    moon kim park hall hill lane field bond page stone frank earnest sterling trump
    """.split()
)

# First names: a near-miss surname right after a first name that is not the entity's own is
# another person ("Sophie Scholl", "Hans Mertz", "Lyudmila Putina"). Lower case.
_FIRST_NAMES_EN = """
    aaron adam adrian agnes alan albert alex alexa alexandra alexis alice alina alison amanda amelie
    amy ana andrea andreas andrew andy angela angelika anja anke ann anne annette anton antonia
    antony anthony arthur barbara ben benjamin bernd bernhard bettina bill birgit bob boris brian
    bruno carl carla carlos carmen caroline carsten catherine charles charlotte chris christian
    christina christine christoph christopher claire clara claudia daniel daniela david dennis
    diana dieter dirk dominik donald doris dorothea edward elena elias elisabeth elizabeth elke
    ella ellen emil emilia emily emma eric erik erika ernst eva fabian felix florian frank franz
    friedrich frieda gabriel gabriele george georg gerd gerhard gisela greta gregor gudrun gunter
    hanna hannah hans harald heike heiko heinrich heinz helen helena helga helmut henrik henry
    herbert hermann hilde holger horst hugo ilse ina ingrid isabel isabella jacob jakob james jan
    jana jane janet jean jennifer jens jessica joachim jochen johann johanna johannes john jonas
    jonathan jordan josef joseph julia julian juliane jurgen jürgen karin karl karla karsten
    katharina kathrin katja katrin kevin klaus konrad kurt lars laura lea lena leon leonie lisa
    lothar louis louise lucas lucy ludwig luis lukas lutz manfred manuel marc marcel marco marcus
    margarete maria marie marina mario mark markus martha martin martina mary mathias matthias
    max maximilian melanie michael michaela michelle mike monika nadine nancy nico nicole niklas
    nils nina nora norbert olaf oliver otto pascal patrick paul paula peter petra philipp phillip
    rainer ralf ralph rebecca regina reinhard renate richard rita robert roland rolf rosa ruth
    sabine sandra sara sarah sascha sebastian simon simone sophia sophie stefan stefanie steffen
    stephan stephanie steven susanne svenja sven sylvia theresa thomas thorsten tim timo tina
    tobias tom torsten udo ulla ulrich ulrike ursula ute uwe valentin vanessa vera victoria
    volker walter werner wilhelm william wolfgang yvonne
    lyudmila ludmila ljudmila olena elena yelena yelizaveta elizaveta jelisaweta liza katerina
    yekaterina ekaterina oksana natalia nataliya natalya svetlana tatiana tatyana yulia yuliya
    kseniya ksenia daria darya alina polina sofia sofiya anastasia anastasiya marina mariya
    vladimir volodymyr sergei sergey serhiy dmitry dmitri dmytro andrei andriy alexei oleksiy
    mikhail mykhailo yuri yuriy ivan pavel pyotr petro nikolai mykola viktor vitaly vitali
    oleg igor ihor kirill yevgeny yevhen evgeny gennady valery valentin vadim ruslan taras
    arseniy arseny vasily vasyl grigory hryhoriy stepan fyodor fedir konstantin kostiantyn
    """
# fmt: on
FIRST_NAMES = frozenset(
    set(_FIRST_NAMES_EN.split())
    | {n.lower() for n in RUSSIAN_FIRST_NAMES_DISTINCT}
    | {n.lower() for n in RUSSIAN_FIRST_NAMES_DISTINCT.values()}
    | {n.lower() for n in RUSSIAN_FIRST_NAMES_SHARED}
    | {n.lower() for n in RUSSIAN_FIRST_NAMES_SHARED.values()}
)

# Russian/Ukrainian surnames change with gender (Putin/Putina, Peskov/Peskova, Zelensky/
# Zelenska): the other form names a relative, not a misspelling. (masculine, feminine) endings.
GENDER_ENDINGS = (
    ("ov", "ova"),
    ("ev", "eva"),
    ("yov", "yova"),
    ("in", "ina"),
    ("yn", "yna"),
    ("sky", "skaya"),
    ("sky", "ska"),
    ("skyy", "ska"),
    ("skiy", "skaya"),
    ("skii", "skaya"),
    ("ski", "ska"),
    ("skyi", "ska"),
    ("sky", "skaja"),
    ("oy", "aya"),
    ("iy", "aya"),
    ("y", "a"),
    ("ow", "owa"),
    ("ew", "ewa"),
)

# Fixed expressions that keep an old or foreign form of a name on purpose: never fixed, for any
# glossary (an entry's own `allow` list adds to these). Matched case-insensitively as words.
FIXED_EXPRESSIONS = (
    "Chicken Kiev",
    "Kievan Rus'",
    "Kievan Rus",
    "Kyivan Rus'",
    "Dynamo Kiev",
    "Kiev Pechersk Lavra",
    "Kiev Opera",
    "Peking University",
    "Peking duck",
    "Peking Opera",
    "Peking Man",
    "Peking Union Medical College",
    "Peking Review",
    "Moskva River",
    "cruiser Moskva",
    "Moskva cruiser",
    "Hotel Moskva",
    "Radio Free Europe",
    "Deutsche Welle",
    "Deutsche Bank",
    "Deutsche Bahn",
    "Deutsche Telekom",
    "Deutschland 83",
    "Deutschlandfunk",
    "Canton Tower",
    "Canton Fair",
    "Canton Road",
    "Bombay Stock Exchange",
    "Bombay Sapphire",
    "Tsinghua University",
    "Nanking Massacre",
)

# Chinese word-boundary affixes: a dictionary word made of a glossary place name and one of
# these still names the place (北京市 Beijing municipality, 德国总理 the German chancellor).
GENERIC_AFFIXES_AFTER = frozenset(
    set(ZH_TITLES)
    | set("市省区县州镇乡村人方籍侧军队")
    | {
        "政府",
        "当局",
        "方面",
        "境内",
        "国内",
        "时间",
        "官员",
        "代表团",
        "大使馆",
        "使馆",
        "领导人",
        "官方",
        "警方",
        "军方",
        "媒体",
        "民众",
        "人民",
        "国民",
        "公民",
        "居民",
        "市民",
        "总统府",
        "政坛",
        "经济",
        "市场",
        "军队",
        "部队",
        "外交",
        "总理府",
        "首脑",
        "元首",
        "边境",
        "全境",
        "各地",
        "特区",
        "特别行政区",
        "自治区",
        "市委",
        "省委",
        "市长",
        "省长",
        "机场",
        "站",
        "火车站",
        "地铁",
        "警察",
        "法院",
        "检察院",
        "议会",
        "国会",
        "大使",
        "总领馆",
        "领事馆",
        "队伍",
        "地区",
        "城市",
        "市区",
        "郊区",
        "以东",
        "以西",
        "以南",
        "以北",
        "附近",
        "一带",
    }
)
GENERIC_AFFIXES_BEFORE = frozenset(
    set("全驻赴访来离回出入经抵自到在中美俄德法英日韩欧")
    | set(ZH_LEFT_PARTICLES)  # 向普京 is a word of jieba's dictionary
    | set("为令使从致见称")
    | {"前往", "抵达", "离开", "访问", "整个"}
)

# Characters typical of transliterated foreign names: one next to a transliterated glossary
# name continues it (基辅罗斯, 普京娜, 拉斯普京, 莫斯科娃).
TRANSLIT_CONTINUATION = frozenset(
    "克尔斯夫娃娜娅诺基特拉罗莫布普维亚蒂奥索科谢洛舍契兹茨伊纳曼登顿坦莱迪里卡萨彼埃沃哈霍"
    "戈朗默丽琳妮莎芙耶尼"
)

# Characters common in Chinese given names (王毅军 is not 王毅).
ZH_GIVEN_CHARS = frozenset(
    "毅强平国春伟军建志海红英新东光辉永庆宏祥福德民忠勇杰云山水玉美丽芳秀静敏燕雪梦鹏飞涛波峰"
    "刚健发贵富利正义仁智信学生力友松树桥亮晓日月星天宇洋河湖虎凤鹤乐喜近泽晨欣佳慧恩思立宝"
    "君华荣明文斌彬辰宁雷龙凯瑞超翔俊峻浩然诚刚磊鑫淼森林"
)
_GIVEN_PARTICLES = frozenset(
    "的了是在和与及或被把对向从为以于这那其之着过吗呢吧啊等将已并但又还仍再会时们个不没有说称同"
)
ZH_GIVEN_CHARS = ZH_GIVEN_CHARS - _GIVEN_PARTICLES

# Literal English renderings of characters common in Chinese place names: a weak model
# translates 北京 "North Capital", 西安 "Western Peace", 香港 "Fragrant Harbour".
PLACE_GLOSSES: dict[str, tuple[str, ...]] = {
    "北": ("north", "northern"),
    "南": ("south", "southern"),
    "东": ("east", "eastern"),
    "西": ("west", "western"),
    "中": ("middle", "central", "centre", "center"),
    "京": ("capital",),
    "安": ("peace", "peaceful", "safe", "safety", "security"),
    "上": ("upper", "up", "above", "on"),
    "下": ("lower", "down", "below"),
    "海": ("sea", "ocean"),
    "香": ("fragrant", "fragrance", "incense"),
    "港": ("harbour", "harbor", "port"),
    "山": ("mountain", "mountains", "hill", "mount"),
    "黄": ("yellow",),
    "溪": ("stream", "creek", "brook"),
    "川": ("river", "stream"),
    "河": ("river",),
    "江": ("river",),
    "湖": ("lake",),
    "州": ("prefecture", "state"),
    "天": ("heaven", "heavenly", "sky"),
    "津": ("ford", "ferry"),
    "重": ("heavy", "double"),
    "庆": ("celebration", "celebrate"),
    "广": ("wide", "broad", "vast"),
    "成": ("become", "success"),
    "都": ("capital", "city", "metropolis"),
    "武": ("martial", "military"),
    "台": ("terrace", "platform"),
    "湾": ("bay",),
    "福": ("fortune", "blessing", "lucky"),
    "建": ("build", "establish"),
    "云": ("cloud", "clouds"),
    "青": ("green", "blue", "azure"),
    "岛": ("island",),
    "长": ("long",),
    "春": ("spring",),
    "沙": ("sand", "sandy"),
    "深": ("deep",),
    "圳": ("ditch", "drain"),
    "宁": ("peaceful", "tranquil"),
    "夏": ("summer",),
    "太": ("great", "grand"),
    "原": ("plain", "origin"),
    "石": ("stone", "rock"),
    "门": ("gate", "door"),
    "明": ("bright",),
    "昆": ("elder",),
    "金": ("gold", "golden"),
    "新": ("new",),
    "白": ("white",),
    "红": ("red",),
    "龙": ("dragon",),
    "宫": ("palace",),
    "城": ("city", "town", "wall"),
    "林": ("forest", "woods"),
    "口": ("mouth",),
    "阳": ("sun", "sunny"),
    "平": ("peace", "flat", "level"),
    "乐": ("joy", "happy"),
    "屯": ("village", "camp", "station"),
    "徽": ("emblem", "badge"),
    "老": ("old",),
    "柏": ("cypress", "cedar"),
    "国": ("country", "nation", "kingdom"),
    "德": ("virtue", "moral"),
    "美": ("beautiful", "beauty"),
    "英": ("hero", "heroic", "brave"),
    "法": ("law", "method"),
    "日": ("sun", "day"),
    "本": ("origin", "root", "source"),
    "基": ("base", "foundation"),
    "辅": ("assist", "auxiliary"),
    "泉": ("spring", "fountain"),
    "峰": ("peak", "summit"),
    "街": ("street",),
    "区": ("district",),
    "市": ("city",),
    "省": ("province",),
}
