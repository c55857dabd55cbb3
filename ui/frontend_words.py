"""Streamlit's own words in Chinese: "Select all", the table toolbar's tooltips, "Choose an option" ….

Streamlit writes these in its browser code in English and offers no setting for another
language.  In Chinese mode the page gets one small script (an invisible component in the
sidebar, loaded from this server, nothing from outside) that watches the page and puts each
known English phrase into Chinese as Streamlit draws it: text, tooltips (``title``),
``aria-label`` and ``placeholder``.  The file uploader's words are replaced by CSS in
``ui/main.py``.  A phrase Streamlit adds in a later version stays English until it is listed
here; ``tests/browser/test_language_browser.py`` looks for English words on every page.
"""

from __future__ import annotations

import json

import streamlit as st

#: Streamlit's English → Chinese, as its browser code writes them.
FRONTEND_WORDS: dict[str, str] = {
    "Select all": "全选",
    "Download as CSV": "下载为 CSV",
    "Search": "搜索",
    "Fullscreen": "全屏",
    "Close fullscreen": "退出全屏",
    "Show/hide columns": "显示/隐藏列",
    "Add row": "添加行",
    "Delete row(s)": "删除所选行",
    "Choose an option": "请选择",
    "Choose options": "请选择",
    "No results": "无结果",
    "No options to select": "没有可选项",
    "Clear all": "全部清除",
    "Clear value": "清除",
    "Press Enter to apply": "按回车键确认",
    "Press Enter to submit form": "按回车键提交",
    "Running...": "运行中…",
    "Stop": "停止",
    "Show password text": "显示密码",
    "Hide password text": "隐藏密码",
    "Open sidebar": "展开侧栏",
    "Close sidebar": "收起侧栏",
    "Collapse sidebar": "收起侧栏",
    "Expand sidebar": "展开侧栏",
    "View more": "展开更多",
    "View less": "收起",
    "Main menu": "主菜单",
    "Rerun": "重新运行",
    "Settings": "设置",
    "Print": "打印",
    "Clear cache": "清除缓存",
    "Remove file": "移除文件",
    "Increment": "增加",
    "Decrement": "减少",
}
#: Phrases with a number in them: regular expression → Chinese (``$1`` the number).
FRONTEND_PATTERNS: dict[str, str] = {
    r"^Select all (\d+) matches$": "全选 $1 项匹配结果",
    r"^(\d+) rows?$": "$1 行",
}

_SCRIPT = """<script>
(function () {
  const doc = window.parent.document;
  doc.__onemapWordsLang = %(lang)s;
  if (doc.__onemapWords) { if (%(lang)s === "zh") doc.__onemapWords(doc.body); return; }
  const words = %(words)s, patterns = %(patterns)s.map(([re, to]) => [new RegExp(re), to]);
  const ATTRS = ["title", "aria-label", "placeholder"];
  function zh(text) {
    const key = text.trim();
    if (words[key] !== undefined) return text.replace(key, words[key]);
    for (const [re, to] of patterns) { if (re.test(key)) return text.replace(key, key.replace(re, to)); }
    return null;
  }
  function fix(root) {
    if (doc.__onemapWordsLang !== "zh" || !root) return;
    if (root.nodeType === 3) { const got = zh(root.nodeValue); if (got !== null) root.nodeValue = got; return; }
    if (root.nodeType !== 1) return;
    for (const el of [root, ...root.querySelectorAll("[title],[aria-label],[placeholder]")]) {
      for (const a of ATTRS) { const v = el.getAttribute && el.getAttribute(a); if (v) { const got = zh(v);
        if (got !== null) el.setAttribute(a, got); } }
    }
    const walk = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) { const got = zh(n.nodeValue); if (got !== null)
      n.nodeValue = got; }
  }
  doc.__onemapWords = fix;
  new MutationObserver((changes) => {
    for (const c of changes) {
      if (c.type === "characterData") fix(c.target);
      else if (c.type === "attributes") fix(c.target);
      else for (const n of c.addedNodes) fix(n);
    }
  }).observe(doc.body, {childList: true, subtree: true, characterData: true, attributes: true,
                        attributeFilter: ATTRS});
  fix(doc.body);
})();
</script>"""


def localise_frontend(lang: str) -> None:
    """Put Streamlit's own English into Chinese on this page when ``lang`` is Chinese (English: left as is)."""
    st.iframe(_SCRIPT % {"lang": json.dumps(lang), "words": json.dumps(FRONTEND_WORDS, ensure_ascii=False),
                         "patterns": json.dumps(list(FRONTEND_PATTERNS.items()), ensure_ascii=False)},
              height="content")


__all__ = ["FRONTEND_WORDS", "FRONTEND_PATTERNS", "localise_frontend"]
