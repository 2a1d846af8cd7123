package dev.engram.report;

import dev.engram.tensor.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One self-contained HTML page (no network: inline CSS, images as files beside it) built section by section. The
 * page carries a small script that, once loaded, marks {@code <body data-check="ok">} or lists what is wrong (an
 * image that did not load, a section with nothing in it, a script error) — the headless-browser check reads it.
 */
public final class HtmlReport {
    private final StringBuilder body = new StringBuilder();
    private final String title;

    public HtmlReport(String title) {
        this.title = title;
    }

    /** Escapes text for HTML. */
    public static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** A section with an id, a heading and raw HTML content (built with {@link #esc}, {@link #table}, {@link #figure}). */
    public HtmlReport section(String id, String heading, String html) {
        body.append("<section id=\"").append(esc(id)).append("\">\n<h2>").append(esc(heading)).append("</h2>\n")
                .append(html).append("\n</section>\n");
        return this;
    }

    /** A paragraph of plain text. */
    public static String p(String text) {
        return "<p>" + esc(text) + "</p>\n";
    }

    /** A figure: an image file relative to the page, its alternative text and a caption. */
    public static String figure(String file, String alt, String caption) {
        return "<figure><img src=\"" + esc(file) + "\" alt=\"" + esc(alt) + "\"><figcaption>" + esc(caption)
                + "</figcaption></figure>\n";
    }

    /** A table; the first row is the header. Cells are text (escaped). */
    public static String table(List<List<String>> rows) {
        StringBuilder sb = new StringBuilder("<table>\n");
        for (int r = 0; r < rows.size(); r++) {
            sb.append("<tr>");
            for (String c : rows.get(r)) {
                String tag = r == 0 ? "th" : "td";
                sb.append('<').append(tag).append('>').append(esc(c)).append("</").append(tag).append('>');
            }
            sb.append("</tr>\n");
        }
        return sb.append("</table>\n").toString();
    }

    /** The page's HTML. */
    public String html() {
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + esc(title)
                + "</title>\n<script>\n" + CHECK + "</script>\n<style>\n" + CSS + "</style>\n</head>\n<body>\n<h1>"
                + esc(title) + "</h1>\n<div id=\"check-problems\"></div>\n" + body + "</body>\n</html>\n";
    }

    /** Writes the page (through a temporary file). */
    public void write(Path file) throws IOException {
        AtomicFiles.writeString(file, html());
    }

    private static final String CSS = """
            body { font-family: sans-serif; max-width: 1060px; margin: 1.5em auto; padding: 0 1em; color: #222; }
            h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.6em; }
            table { border-collapse: collapse; margin: .6em 0; font-size: .92em; }
            th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
            th:first-child, td:first-child { text-align: left; }
            th { background: #f0f0f0; }
            figure { margin: 1em 0; } img { max-width: 100%; border: 1px solid #ddd; }
            figcaption { font-size: .9em; color: #555; }
            #check-problems { color: #b00; font-weight: bold; }
            """;

    /** Marks the body ok or lists problems; runs before anything else so errors later on are caught. */
    private static final String CHECK = """
            (function () {
              var problems = [];
              window.addEventListener('error', function (e) { problems.push('script error: ' + e.message); });
              var origError = console.error;
              console.error = function () { problems.push('console error: ' + Array.prototype.join.call(arguments, ' '));
                return origError.apply(console, arguments); };
              window.addEventListener('load', function () {
                document.querySelectorAll('img').forEach(function (img) {
                  if (!img.complete || img.naturalWidth === 0) { problems.push('image did not load: ' + img.getAttribute('src')); }
                });
                document.querySelectorAll('section').forEach(function (s) {
                  var content = Array.prototype.filter.call(s.children, function (c) { return c.tagName !== 'H2'; });
                  var text = content.map(function (c) { return c.textContent.trim(); }).join('');
                  if (content.length === 0 || (text === '' && s.querySelector('img') === null)) { problems.push('empty section: ' + s.id); }
                });
                document.body.setAttribute('data-check', problems.length === 0 ? 'ok' : 'fail');
                if (problems.length > 0) { document.getElementById('check-problems').textContent = 'Report problems: ' + problems.join('; '); }
              });
            })();
            """;
}
