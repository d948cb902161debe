"""How the form fuzz test finds the site: the url_map's routes with real ids, then the links and
forms (with every named control and what a browser would send) in the HTML of each page."""

from __future__ import annotations

import inspect
import itertools
import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from tests.web.fuzz_world import HOSTILE, HOSTILE_IDS

#: where a view reads query arguments: request.args.get("x"), id_arg("x"), text_arg("x") ...
READS = re.compile(r'(?:args|source)\.get\(\s*"(\w+)"|(?:_arg|_choice|number)\(\s*"(\w+)"')
#: what a person types into the empty boxes of each input type, in turn (a period's start, then its end)
TYPED = {
    "text": ["Fuzz"],
    "search": ["Fuzz"],
    "textarea": ["Fuzz"],
    "email": ["fuzz.typed@example.com"],
    "tel": ["07700 900999"],
    "password": ["correct horse battery staple"],
    "number": ["10"],
    "date": ["2027-03-01"],
    "datetime-local": ["2027-03-02T12:00", "2027-03-02T13:00"],
}


@dataclass
class Form:
    """A form as a browser would submit it: where, the values it carries, and every named control."""

    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    first_radio: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, value: str | None, kind: str = "text") -> None:
        """Records a control; `value` None means it is named but sends nothing unless chosen."""
        if name not in self.names:
            self.names.append(name)
            self.kinds[name] = kind
        if value is not None:
            self.fields.setdefault(name, value)

    def filled(self) -> dict[str, str]:
        """What it sends once a person has typed something plausible into every empty box."""
        typed, turns = dict(self.fields), {kind: itertools.cycle(values) for kind, values in TYPED.items()}
        for name in self.names:
            if not typed.get(name) and self.kinds[name] in TYPED:
                typed[name] = next(turns[self.kinds[name]])
        return typed


class PageParser(HTMLParser):
    """The links and forms of one page (inputs, selects, textareas, named buttons)."""

    def __init__(self, url: str):
        super().__init__(convert_charrefs=True)
        self.url, self.links, self.forms = url, [], []
        self.form: Form | None = None
        self.select: tuple[str, list[str]] | None = None
        self.textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.url, a["href"]))
        elif tag == "form":
            self.form = Form(a.get("method", "get").lower(), urljoin(self.url, a.get("action") or self.url))
        elif tag == "option" and self.form is not None and self.select is not None:
            self.select[1].append(a.get("value", ""))
            if "selected" in a:
                self.form.add(self.select[0], a.get("value", ""))
        elif self.form is None or not a.get("name"):
            return
        elif tag == "input":
            self._input(a)
        elif tag == "button":
            self.form.add(a["name"], None, "button")
        elif tag == "select":
            self.select = (a["name"], [])
            self.form.add(a["name"], None, "select")
        elif tag == "textarea":
            self.textarea = (a["name"], [])
            self.form.add(a["name"], None, "textarea")

    def _input(self, a: dict[str, str]) -> None:
        kind, name, value = a.get("type", "text").lower(), a["name"], a.get("value", "")
        if kind in ("submit", "button", "image", "reset", "file"):
            self.form.add(name, None, "button")
        elif kind in ("checkbox", "radio"):
            self.form.add(name, (value or "on") if "checked" in a else None)
            if kind == "radio":
                self.form.first_radio.setdefault(name, value)
        else:
            self.form.add(name, value, kind)

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self.select is not None and self.form is not None:
            name, options = self.select
            self.form.add(name, options[0] if options else "")
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.form is not None:
            text = "".join(self.textarea[1])  # a browser drops the newline that opens a textarea
            self.form.add(self.textarea[0], text[2:] if text.startswith("\r\n") else text.removeprefix("\n"))
            self.textarea = None
        elif tag == "form" and self.form is not None:
            for name, value in self.form.first_radio.items():
                self.form.fields.setdefault(name, value)
            self.forms.append(self.form)
            self.form = None


def local_path(url: str) -> str | None:
    """The path and query of a link to this site, or None for another site or a fragment."""
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "localhost"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def endpoint_of(app, url: str, method: str = "GET") -> tuple[str, dict] | None:
    """The endpoint and path values that answer `method` at `url`, or None."""
    try:
        return app.url_map.bind("localhost").match(urlsplit(url).path, method=method)
    except (HTTPException, RequestRedirect):
        return None


def query_names(url: str) -> list[str]:
    """The query argument names of a URL, in order."""
    return list(dict.fromkeys(k for k, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)))


def with_arg(url: str, name: str, value: str) -> str:
    """`url` with the query argument `name` set to `value` (the others kept)."""
    parts = urlsplit(url)
    args = dict(parse_qsl(parts.query, keep_blank_values=True)) | {name: value}
    return f"{parts.path}?{urlencode(args)}"


def names_read_by(app, endpoint: str) -> set[str]:
    """The query argument names the view function reads itself (those read deeper come from links and forms)."""
    source = inspect.getsource(inspect.unwrap(app.view_functions[endpoint]))
    return {a or b for a, b in READS.findall(source)}


def _rules(app, method: str):
    """The app's rules answering `method`, static files left out, in a fixed order."""
    rules = [r for r in app.url_map.iter_rules() if method in r.methods and r.endpoint != "static"]
    return sorted(rules, key=lambda r: r.rule)


def concrete_paths(app, world: dict[str, list], method: str) -> list[str]:
    """The path of every rule answering `method`, once for each combination of the world's values."""
    paths = []
    for rule in _rules(app, method):
        names = sorted(rule.arguments)
        for combo in itertools.product(*(world[n] for n in names)):
            paths.append(rule.build(dict(zip(names, combo, strict=True)), append_unknown=False)[1])
    return paths


def hostile_paths(app, world: dict[str, list], method: str) -> list[str]:
    """Every rule's path with one variable at a time taking a hostile value (ids for <int:...>, else text)."""
    paths = []
    for rule in _rules(app, method):
        values = {name: str(world[name][0]) for name in rule.arguments}
        for name, converter in sorted(rule._converters.items()):
            for bad in HOSTILE_IDS if converter.regex == r"\d+" else HOSTILE.values():
                paths.append(_fill(rule.rule, values | {name: bad}))
    return paths


def _fill(template: str, values: dict[str, str]) -> str:
    """A rule's path with each <converter:name> replaced by its value, percent-encoded."""
    for name, value in values.items():
        template = re.sub(rf"<(?:[^<>]*:)?{name}>", lambda _m, v=value: quote(v, safe=""), template)
    return template


@dataclass
class Site:
    """What a crawl found: per GET endpoint the page with the most query arguments and every name
    seen; each distinct POST form; and the pages that answered 500 or more."""

    pages: dict[str, str] = field(default_factory=dict)
    args: dict[str, set[str]] = field(default_factory=dict)
    forms: dict[tuple, Form] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    visited: int = 0
    ok: set[str] = field(default_factory=set)

    def saw(self, endpoint: str, url: str, ok: bool) -> None:
        """Keeps the query names of a page, and the page as the endpoint's baseline when it is the first, or
        the first that answered 200, or a 200 with more arguments (a refused baseline would hide the rest)."""
        self.args.setdefault(endpoint, set()).update(query_names(url))
        current = self.pages.get(endpoint)
        if current is None or (ok and (endpoint not in self.ok or len(query_names(url)) > len(query_names(current)))):
            self.pages[endpoint] = url
            if ok:
                self.ok.add(endpoint)


def crawl(app, client, world: dict[str, list], limit: int = 250) -> Site:
    """Renders every GET route of the pages, then every same-site link and GET form reachable from them
    (once per path and set of query names, at most `limit` pages), and keeps what they hold."""
    site, seen = Site(), set()
    queue = deque(concrete_paths(app, world, "GET"))
    while queue and len(seen) < limit:
        url = queue.popleft()
        match = endpoint_of(app, url)
        key = (urlsplit(url).path, frozenset(query_names(url)))
        if match is None or match[0].startswith("api.") or key in seen:
            continue
        seen.add(key)
        site.visited += 1
        resp = client.get(url)
        if resp.status_code >= 500:
            site.errors.append(f"GET {url[:160]!r} -> {resp.status_code}")
        site.saw(match[0], url, resp.status_code == 200)
        if resp.status_code != 200 or resp.mimetype != "text/html":
            continue
        page = PageParser("http://localhost" + url)
        page.feed(resp.get_data(as_text=True))
        queue.extend(p for p in map(local_path, page.links) if p)
        for form in page.forms:
            _keep(app, site, queue, form)
    return site


def _keep(app, site: Site, queue: deque, form: Form) -> None:
    """A GET form is followed as its submission; a POST form is kept, once per endpoint and controls."""
    action = local_path(form.action)
    match = endpoint_of(app, action or "", form.method.upper())
    if match is None:
        return
    endpoint, values = match
    if form.method == "get":
        site.args.setdefault(endpoint, set()).update(form.names)
        fields = {k: v for k, v in form.filled().items() if k != "csrf_token"}
        queue.append(f"{urlsplit(action).path}?{urlencode(fields)}")
        return
    form.action = action
    variant = tuple(sorted((k, v) for k, v in values.items() if not isinstance(v, int)))
    site.forms.setdefault((endpoint, variant, tuple(form.names)), form)
