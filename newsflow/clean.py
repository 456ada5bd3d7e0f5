"""RawArticle -> Article: HTML to plain paragraphs, boilerplate lines out, Unicode tidied.

Pure: no I/O, never raises for bad input, never drops an article. An item
with no text left comes back with ``paragraphs == []`` and an ``error``.

* Full pages (``<html>``/``<body>`` present, or ``full_page=True``) go through
  trafilatura (precision mode, no comments), after page chrome, small blocks named
  as cookie banners / comments / related lists / share bars are removed and an
  article split over several body ``<div>``s is joined; a plain ``<p>`` collector
  is the fallback when trafilatura finds nothing.
* HTML fragments (feed content) go through :func:`html_fragment_to_text`:
  block elements become paragraph breaks, scripts/navigation are removed.
* Then every line is checked against :data:`BOILERPLATE_LINES` and
  :data:`BOILERPLATE_PATTERNS`. Only WHOLE lines are removed (case-insensitive,
  ignoring surrounding punctuation such as ``:`` or ``»``); a sentence that
  merely contains "show more" stays.
"""

from __future__ import annotations

import html as html_lib
import logging
import re
import unicodedata

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.xpaths import BODY_XPATH

from newsflow.article import Article, RawArticle

log = logging.getLogger("newsflow.clean")

NO_TEXT = "no article text found"

# ---------------------------------------------------------------------------- boilerplate

# Exact lines (compared casefolded, with surrounding punctuation/space stripped:
# "Share this:" -> "share this", "Loading..." -> "loading", "- Anzeige -" -> "anzeige").
BOILERPLATE_LINES = frozenset(
    item.strip()
    for item in """
    show more|show less|read more|read more here|continue reading|read the full story|
    read full article|related|related articles|related posts|related stories|related news|
    more stories|you may also like|recommended|recommended for you|back to top|
    back to top button|scroll to top|skip to content|skip to main content|share|share this|
    share this article|share this story|share on facebook|share on twitter|share via email|
    tweet|like this|like|loading|advertisement|advertisements|ad|sponsored|sponsored content|
    print|email|e-mail|subscribe|sign up|log in|comments|leave a comment|leave a reply|
    cookie settings|cookie policy|accept cookies|accept all cookies|accept all|reject all|
    manage cookies|copy link|link copied|facebook|twitter|whatsapp|linkedin|pinterest|reddit|
    telegram|instagram|youtube|weibo|wechat|%d bloggers like this|
    mehr anzeigen|weniger anzeigen|zurück nach oben|nach oben|zum seitenanfang|weiterlesen|
    mehr lesen|mehr zum thema|lesen sie auch|lesen sie mehr|auch interessant|
    das könnte sie auch interessieren|anzeige|werbung|teilen|artikel teilen|drucken|versenden|
    kommentare|kommentieren|zum inhalt springen|direkt zum inhalt|alle akzeptieren|
    cookie-einstellungen|cookies akzeptieren|link kopieren|
    相关文章|相关阅读|相关新闻|相关推荐|延伸阅读|推荐阅读|返回顶部|回到顶部|分享到|分享|分享至|
    阅读全文|查看全文|展开全文|点击查看更多|查看更多|加载更多|加载中|广告|打印|收藏|微信|微博|
    朋友圈|qq空间|扫一扫|扫码分享|
    相關文章|相關閱讀|相關新聞|延伸閱讀|返回頂部|回到頂部|閱讀全文|查看更多|廣告|看更多
    """.split("|")
) - {""}

# Whole-line regexes (fullmatch, case-insensitive) for lines with variable parts.
BOILERPLATE_PATTERNS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\d[\d,.]* bloggers? likes? this",
        r"click to (share|email|print|tweet|pin)\b.{0,80}",
        r".{0,80}\(opens in (a )?new (window|tab)\)",
        r"(share|teilen|分享)( (on|auf|via))? ?(到|至)?[ :：]*"
        r"(facebook|twitter|x|whatsapp|linkedin|e-?mail|weibo|wechat|telegram|微博|微信|qq)",
        r"(follow us|folgen sie uns)( on| auf)? .{1,60}",
        r"(关注我们|關注我們).{0,30}",
        # "Read more: <other headline>" style cross-links (colon required, short line).
        r"(read more|read also|related|see also|lesen sie (auch|mehr|hier)|mehr zum thema|"
        r"auch interessant|相关阅读|相关文章|延伸阅读|推荐阅读|延伸閱讀|相關閱讀)\s*[:：].{0,150}",
        r"story continues below( (the )?advertisement)?",
        r"(der )?(artikel|text) (wird|geht) (nach|unter) (der|dieser) (anzeige|werbung) weiter",
        r"weiterlesen nach der (anzeige|werbung)",
        # cookie notices: short lines that open with the usual phrases
        r"(this|our) (web ?site|site) uses cookies\b.{0,300}",
        r"we use cookies\b.{0,300}",
        r"by (continuing to use|using) (this|our) (web ?site|site)\b.{0,200}cookies\b.{0,200}",
        r"(diese|unsere) (web ?seite|website|seite) (verwendet|nutzt) cookies\b.{0,300}",
        r"wir (verwenden|nutzen) cookies\b.{0,300}",
        r"(本网站|本站|我们|本網站|我們)(使用|采用|採用)\s*cookies?.{0,200}",
        # copyright footers
        r"©.{0,120}",
        r"(\(c\)|copyright)\s*©?\s*\d{4}\b.{0,120}",
        r"(all rights reserved|alle rechte vorbehalten)\.?",
        r"版权所有.{0,80}|版權所有.{0,80}",
        r"\d+ (comments?|kommentare?)",
    )
)

_EDGE_PUNCT = " \t:：.…»«›‹>|·•*-–—_=/\\()[]（）【】"


def _line_key(line: str) -> str:
    return line.casefold().strip(_EDGE_PUNCT)


def is_boilerplate(line: str) -> bool:
    """True when the WHOLE line is navigation, sharing, ads or cookie text."""
    stripped = line.strip()
    if not stripped:
        return False
    key = _line_key(stripped)
    if key in BOILERPLATE_LINES:
        return True
    if not key and len(stripped) <= 5:  # a line of only separators, e.g. "|" or "—"
        return True
    return any(p.fullmatch(stripped) or p.fullmatch(key) for p in BOILERPLATE_PATTERNS)


# ---------------------------------------------------------------------------- unicode / text

_CJK = "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_BREAK_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])[ \t\r\f]*\n[ \t\r\n\f]*(?=[{_CJK}])")
_SENTENCE_END = re.compile(r"[.!?…:;。！？；：\"'”’»«」』)）]$")


# Categories normalize_unicode removes: controls, format characters, surrogates, private use.
REMOVED_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Co"))
# Characters of no removed category, by range (tests/test_clean.py checks every one of them
# against unicodedata): printable ASCII and newline, Latin to Hebrew but the soft hyphen (U+00AD,
# Cf), CJK punctuation, the CJK ideographs and fullwidth ASCII. Only the runs of other characters
# are looked at one by one: the category of every character of a 5 MB article cost seconds.
_ANY_OTHER = re.compile("[^\n\x20-\x7e\u00a0-\u00ac\u00ae-\u05ff\u3000-\u303f\u4e00-\u9fff\uff01-\uff5e]+")


def _without_removed(run: re.Match[str]) -> str:
    return "".join(ch for ch in run.group() if unicodedata.category(ch) not in REMOVED_CATEGORIES)


def normalize_unicode(text: str) -> str:
    """NFC; drop zero-width and other format/control characters (keeps newlines).

    Tabs become spaces; line/paragraph separators become newlines; soft hyphens,
    zero-width spaces/joiners, BOMs and bidi marks (category Cf) disappear.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n").replace("\t", " ")
    text = unicodedata.normalize("NFC", text)
    return _ANY_OTHER.sub(_without_removed, text)


def normalize_space(line: str) -> str:
    """Collapse runs of whitespace (incl. no-break and ideographic spaces) to one space.

    Spaces between CJK characters are kept: one typed there is deliberate (the
    dateline in "黄山3月12日电 中国外长..."). Line breaks between CJK characters,
    which are not, are removed when lines are joined (:func:`_join_lines`,
    :func:`_ws`)."""
    return " ".join(line.split())


def clean_line(text: str) -> str:
    """One line of plain text (titles): Unicode-normalised, whitespace collapsed."""
    return normalize_space(normalize_unicode(text))


def text_to_paragraphs(text: str) -> list[str]:
    """Plain text -> cleaned paragraphs.

    Paragraphs are separated by blank lines. Inside a block, lines are joined
    (hard-wrapped text) unless most of them end a sentence, in which case each
    line is its own paragraph (files with one paragraph per line).
    Boilerplate lines are removed before joining.
    """
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", normalize_unicode(text)):
        lines = [normalize_space(line) for line in block.split("\n")]
        lines = [line for line in lines if line and not is_boilerplate(line)]
        if not lines:
            continue
        if _lines_are_paragraphs(lines):
            paragraphs.extend(lines)
        else:
            paragraphs.append(_join_lines(lines))
    return paragraphs


def _lines_are_paragraphs(lines: list[str]) -> bool:
    if len(lines) < 3:  # two lines say too little: join them (hard wrap is likelier)
        return False
    ended = sum(1 for line in lines[:-1] if _SENTENCE_END.search(line))
    return ended * 2 >= len(lines) - 1


def _join_lines(lines: list[str]) -> str:
    out = lines[0]
    for line in lines[1:]:
        joint = "" if (re.match(f"[{_CJK}]", line) and re.search(f"[{_CJK}]$", out)) else " "
        out += joint + line
    return out


# ---------------------------------------------------------------------------- HTML

BLOCK_TAGS = frozenset(
    "p div br li ul ol dl dt dd h1 h2 h3 h4 h5 h6 blockquote pre table tr th td thead tbody "
    "section article main header figure figcaption hr address center details summary".split()
)
DROP_TAGS = (
    "script", "style", "noscript", "template", "nav", "aside", "footer", "form", "button",
    "iframe", "svg", "object", "embed", "select", "input", "textarea", "head", "meta", "link",
    "canvas", "audio", "video", "picture", "img", "map",
)  # fmt: skip


def html_fragment_to_text(fragment: str) -> str:
    """HTML fragment (feed content) -> plain text with a blank line between blocks.

    Block elements (p, div, br, li, h1-h6, blockquote...) become paragraph
    breaks; script/style/nav/aside/footer/forms are removed with their text;
    entities are decoded (twice, since feeds often escape HTML twice).
    """
    if not fragment.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError) as exc:
        log.debug("unparsable HTML fragment (%s); using it as text", exc)
        return html_lib.unescape(re.sub(r"<[^>]*>", " ", fragment))
    return _element_text(root)


def _element_text(root, drop: tuple[str, ...] = DROP_TAGS) -> str:
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, *drop, with_tail=False)
    parts: list[str] = []
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        block = tag in BLOCK_TAGS
        if event == "start":
            if block:
                parts.append("\n\n")
            if el.text:
                parts.append(_ws(el.text))
        else:
            if block:
                parts.append("\n\n")
            if el.tail and el is not root:
                parts.append(_ws(el.tail))
    return _unescape_entities("".join(parts))


_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _unescape_entities(text: str) -> str:
    # lxml already decoded one level; feeds that escape twice leave "&amp;quot;" ->
    # "&quot;" here. Only complete references (with ";") are decoded, so "R&D" and
    # "a&para=1" stay as they are.
    return _ENTITY.sub(lambda m: html_lib.unescape(m.group(0)), text)


def _ws(text: str) -> str:
    # In HTML a newline in text is just a space (none between CJK characters);
    # paragraph breaks come from tags.
    return re.sub(r"[ \t\r\n\f]+", " ", _BREAK_BETWEEN_CJK.sub("", text))


PAGE_CHROME_TAGS = ("nav", "aside", "footer", "noscript", "form", "button", "select", "iframe")
_FULL_PAGE = re.compile(r"<(html|body)\b|<!doctype\s+html", re.IGNORECASE)


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")


def parse_document(html: str):
    """lxml tree of a whole page, or None when there is nothing to parse. A
    leading XML declaration (XHTML) is dropped: lxml refuses one in a str."""
    try:
        return lxml.html.document_fromstring(_XML_DECLARATION.sub("", html, count=1))
    except (etree.ParserError, ValueError):
        return None


def is_full_page(html: str) -> bool:
    return bool(_FULL_PAGE.search(html))


# What trafilatura is asked for, by page_to_text and by newsflow.extract (links followed from
# feeds): the article in precision mode, tables kept; no comments, images or links; a paragraph
# that repeats is kept (it is the article's text, not trafilatura's to drop).
TRAFILATURA_OPTIONS = {
    "favor_precision": True,
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "deduplicate": False,
}


def strip_page_chrome(tree) -> None:
    """Prepare a parsed page for trafilatura, in place: navigation, sidebars, footers and forms
    go (on a page without an article its fallback otherwise returns the menu's link text), small
    blocks named as banners, comments or related lists go, and an article split over several
    body ``<div>``s is joined."""
    etree.strip_elements(tree, *PAGE_CHROME_TAGS, with_tail=False)
    drop_non_article_blocks(tree)
    join_split_body(tree)


def page_to_text(html: str) -> str:
    """Full HTML page -> main text, one paragraph per line (trafilatura), or the
    page's <p> elements when trafilatura finds nothing."""
    tree = parse_document(html)
    if tree is None:
        return ""
    strip_page_chrome(tree)
    try:
        text = trafilatura.extract(tree, output_format="txt", with_metadata=False, **TRAFILATURA_OPTIONS)
    except Exception as exc:  # trafilatura raises assorted errors on odd markup
        log.debug("trafilatura failed (%s); using the <p> fallback", exc)
        text = None
    if text and text.strip():
        # trafilatura puts one paragraph per line
        return "\n\n".join(text.splitlines())
    return _page_paragraphs(parse_document(html))


# Elements that are never the article, whatever their tag: cookie banners, comment
# sections, related-article lists, share bars (matched on class/id words).
_NOT_ARTICLE = re.compile(
    r"(^|[\s_-])(cookie|consent|gdpr|banner|comments?|comment-list|disqus|related|"
    r"recommended|more-stories|share|sharing|social|newsletter|subscribe|paywall|"
    r"breadcrumbs?|sidebar|promo|advert|ads?|teaser-list|kommentare|weitere)([\s_-]|$)",
    re.IGNORECASE,
)
# Only blocks that hold little text are dropped on their class alone: a site that calls
# its article wrapper "article-share-container" keeps its article.
_MAX_DROPPED_CHARS = 1500
# trafilatura takes the FIRST element its body expressions match ("[1]"): an article split
# over <div class="article-body">...<div class="ad">...<div class="article-body"> loses
# everything after the first part. The same expressions without "[1]" find all parts.
_ALL_BODY_PARTS = [
    etree.XPath(re.sub(r"\[1\]\s*$", "", str(expr).strip()),
                namespaces={"re": "http://exslt.org/regular-expressions"})
    for expr in BODY_XPATH
]


def join_split_body(tree) -> None:
    """Move the children of later body parts that are siblings of the first one into
    it, so trafilatura sees the whole article (what lies between them stays out)."""
    for expr in _ALL_BODY_PARTS:
        try:
            found = expr(tree)
        except etree.XPathError:
            continue
        if not found:
            continue
        found_set = set(found)
        tops = [el for el in found if not any(a in found_set for a in el.iterancestors())]
        first = tops[0]
        for el in tops[1:]:
            if el.getparent() is not first.getparent():
                continue
            if el.text and el.text.strip():  # text directly inside the part
                etree.SubElement(first, "p").text = el.text
            for child in list(el):
                first.append(child)
            el.drop_tree()
        return


def drop_non_article_blocks(tree) -> None:
    """Remove the small blocks whose class/id/role names them as not the article (cookie
    banners, comments, related lists, share bars), unless they hold the article."""
    for el in list(tree.iter("div", "section", "ul", "ol", "aside")):
        if el.getparent() is None:
            continue
        marker = f"{el.get('class') or ''} {el.get('id') or ''} {el.get('role') or ''}"
        if not _NOT_ARTICLE.search(marker):
            continue
        if el.find(".//article") is not None or el.find(".//main") is not None:
            continue
        if len("".join(el.itertext())) <= _MAX_DROPPED_CHARS:
            el.drop_tree()


_PARAGRAPH_TAGS = ("p", "h1", "h2", "h3", "li")


def _page_paragraphs(root) -> str:
    if root is None:
        return ""
    etree.strip_elements(root, etree.Comment, *DROP_TAGS, "header", with_tail=False)
    paragraphs = [
        _ws(el.text_content()).strip()
        for el in root.iter(*_PARAGRAPH_TAGS)
        # a <li> holding a <p> would repeat its text
        if not any(inner is not el for inner in el.iter(*_PARAGRAPH_TAGS))
    ]
    paragraphs = [p for p in paragraphs if p]
    if paragraphs:
        return "\n\n".join(paragraphs)
    body = root.find("body")
    return _element_text(body) if body is not None else ""


# ---------------------------------------------------------------------------- titles

_TAG = re.compile(r"<(p|br|div|span|a|b|i|em|strong|h[1-6]|ul|ol|li|img|html|body)\b[^>]*>", re.I)


def looks_like_html(text: str) -> bool:
    return bool(_TAG.search(text))


def html_title_and_date(html: str) -> tuple[str, str | None]:
    """Headline and publication date of an HTML page.

    trafilatura's metadata (og:title, <h1>, <title> without the site name) and
    only dates the page declares (no guessing from the text, which picks up
    copyright years). Falls back to the first <h1>, then <title>.
    """
    if not html.strip():
        return "", None
    title, date = "", None
    try:
        meta = trafilatura.extract_metadata(html, extensive=False)
        title, date = (meta.title or ""), meta.date
    except Exception as exc:  # trafilatura raises assorted errors on odd markup
        log.debug("metadata extraction failed: %s", exc)
    if not title:
        title = _first_text(html, ("//h1", "//title"))
    return " ".join(title.split()), date or None


def _first_text(html: str, xpaths: tuple[str, ...]) -> str:
    tree = parse_document(html)
    if tree is None:
        return ""
    for xpath in xpaths:
        for node in tree.xpath(xpath):
            text = " ".join(node.text_content().split())
            if text:
                return text
    return ""


def html_to_plain_line(fragment: str) -> str:
    """An HTML title -> one line of plain text (tags dropped, entities decoded)."""
    if "<" not in fragment and "&" not in fragment:
        return fragment
    try:
        node = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return fragment
    return " ".join(node.text_content().split())


# ---------------------------------------------------------------------------- article


def _same_text(a: str, b: str) -> bool:
    """Equal up to case, spacing and punctuation ("Neue Regeln!" == "Neue Regeln")."""
    key_a, key_b = (re.sub(r"[\W_]+", "", t.casefold()) for t in (a, b))
    return bool(key_a) and key_a == key_b


def _drop_repeated_title(paragraphs: list[str], title: str) -> list[str]:
    """Drop the headline when the body repeats it at the top, with any short
    kicker/breadcrumb lines above it ("Europe", "Politik")."""
    for i, paragraph in enumerate(paragraphs[:3]):
        if _same_text(paragraph, title):
            if all(len(p) <= 40 for p in paragraphs[:i]):
                return paragraphs[i + 1 :]
            break
    return paragraphs


def clean_article(raw: RawArticle, full_page: bool | None = None) -> Article:
    """Clean one raw article. Never raises for bad content, never drops the item.

    ``full_page``: None decides from the markup (``<html>``/``<body>``); a
    ``pages`` source may pass True. ``Article.error`` is ``raw.error`` if set,
    else "no article text found" when nothing is left.
    """
    title = clean_line(raw.title or "")
    body = raw.body or ""
    if raw.is_html:
        page = is_full_page(body) if full_page is None else full_page
        text = page_to_text(body) if page else html_fragment_to_text(body)
    else:
        text = body
    paragraphs = _drop_repeated_title(text_to_paragraphs(text), title)
    error = raw.error
    if not paragraphs and not error:
        error = NO_TEXT
    return Article(
        id=raw.id,
        source=raw.source,
        title=title,
        paragraphs=paragraphs,
        url=raw.url,
        published=raw.published,
        expected_lang=raw.expected_lang,
        error=error,
        fetched_from=raw.fetched_from,
        fetch_note=raw.fetch_note,
        author=raw.author,
        source_updated=raw.source_updated,
    )
