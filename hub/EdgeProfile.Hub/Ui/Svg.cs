using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Components;

namespace EdgeProfile.Hub.Ui;

/// <summary>One bar: a label and its value (signed for attributions).</summary>
public sealed record Bar(string Label, double Value);

/// <summary>One line of a line chart.</summary>
public sealed record Series(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>A node and an edge of the small graph view.</summary>
public sealed record GraphEdge(string From, string Relation, string To);

/// <summary>
/// Charts drawn on the server as inline SVG: no script library, nothing fetched from a CDN (stores and offices may be
/// offline), and every drawn value is also in the markup (<c>data-value</c>) so tests trace it to the API answer.
/// </summary>
internal static class Svg
{
    private static readonly string[] Palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];

    /// <summary>Horizontal bars; negative values grow left of the axis (Shapley attributions), positive right.</summary>
    public static MarkupString Bars(IReadOnlyList<Bar> bars, string testId, string? caption = null)
    {
        const int labelWidth = 230, barArea = 360, row = 24, valueWidth = 80;
        var height = (bars.Count * row) + 10;
        var width = labelWidth + barArea + valueWidth;
        var max = bars.Count == 0 ? 1 : Math.Max(1e-12, bars.Max(b => Math.Abs(b.Value)));
        var signed = bars.Any(b => b.Value < 0);
        var zero = signed ? labelWidth + (barArea / 2.0) : labelWidth;
        var scale = signed ? barArea / 2.0 / max : barArea / max;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" data-testid=\"{Esc(testId)}\" role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">");
        if (caption is not null)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<title>{Esc(caption)}</title>");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{zero:0.#}\" y1=\"0\" x2=\"{zero:0.#}\" y2=\"{height}\" stroke=\"#94a3b8\"/>");
        for (var i = 0; i < bars.Count; i++)
        {
            var b = bars[i];
            var y = 5 + (i * row);
            var length = Math.Abs(b.Value) * scale;
            var x = b.Value < 0 ? zero - length : zero;
            var color = b.Value < 0 ? "#dc2626" : "#2563eb";
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"bar\" data-label=\"{Esc(b.Label)}\" data-value=\"{b.Value.ToString("R", CultureInfo.InvariantCulture)}\">");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{labelWidth - 6}\" y=\"{y + 15}\" text-anchor=\"end\" font-size=\"12\">{Esc(Clip(b.Label, 34))}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:0.##}\" y=\"{y + 3}\" width=\"{Math.Max(1, length):0.##}\" height=\"{row - 8}\" fill=\"{color}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{labelWidth + barArea + 6}\" y=\"{y + 15}\" font-size=\"12\">{Esc(Signed(b.Value))}</text></g>");
        }

        svg.Append("</svg>");
        return new MarkupString(svg.ToString());
    }

    /// <summary>Lines over x (rounds), each series scaled to the shared y range, with axes and a legend.</summary>
    public static MarkupString Lines(IReadOnlyList<Series> series, string testId, string xLabel)
    {
        const int width = 640, height = 260, left = 56, right = 16, top = 16, bottom = 40;
        var points = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.Y)).ToList();
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart\" data-testid=\"{Esc(testId)}\" role=\"img\" viewBox=\"0 0 {width} {height + (series.Count * 18)}\" width=\"{width}\" height=\"{height + (series.Count * 18)}\">");
        if (points.Count == 0)
        {
            svg.Append("<text x=\"20\" y=\"40\" font-size=\"13\">—</text></svg>");
            return new MarkupString(svg.ToString());
        }

        double minX = points.Min(p => p.X), maxX = points.Max(p => p.X), minY = points.Min(p => p.Y), maxY = points.Max(p => p.Y);
        if (maxX - minX < 1e-12)
        {
            maxX = minX + 1;
        }

        if (maxY - minY < 1e-12)
        {
            (minY, maxY) = (minY - 0.5, maxY + 0.5);
        }

        double Px(double x) => left + ((x - minX) / (maxX - minX) * (width - left - right));
        double Py(double y) => top + ((maxY - y) / (maxY - minY) * (height - top - bottom));
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{height - bottom}\" x2=\"{width - right}\" y2=\"{height - bottom}\" stroke=\"#94a3b8\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{height - bottom}\" stroke=\"#94a3b8\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 4}\" y=\"{top + 4}\" text-anchor=\"end\" font-size=\"11\">{F(maxY)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 4}\" y=\"{height - bottom}\" text-anchor=\"end\" font-size=\"11\">{F(minY)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"{height - bottom + 16}\" font-size=\"11\">{F(minX)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{width - right}\" y=\"{height - bottom + 16}\" text-anchor=\"end\" font-size=\"11\">{F(maxX)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{(left + width - right) / 2}\" y=\"{height - bottom + 30}\" text-anchor=\"middle\" font-size=\"12\">{Esc(xLabel)}</text>");
        for (var s = 0; s < series.Count; s++)
        {
            var color = Palette[s % Palette.Length];
            var line = series[s].Points.Where(p => double.IsFinite(p.Y)).OrderBy(p => p.X).ToList();
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"series\" data-name=\"{Esc(series[s].Name)}\">");
            if (line.Count > 1)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(' ', line.Select(p => $"{Px(p.X):0.#},{Py(p.Y):0.#}"))}\"/>");
            }

            foreach (var (x, y) in line)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<circle class=\"point\" cx=\"{Px(x):0.#}\" cy=\"{Py(y):0.#}\" r=\"3\" fill=\"{color}\" data-x=\"{x.ToString("R", CultureInfo.InvariantCulture)}\" data-value=\"{y.ToString("R", CultureInfo.InvariantCulture)}\"><title>{Esc($"{series[s].Name} @ {F(x)}: {F(y)}")}</title></circle>");
            }

            svg.Append("</g>");
            var ly = height + (s * 18) + 4;
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{ly}\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"{left + 18}\" y=\"{ly + 11}\" font-size=\"12\">{Esc(series[s].Name)}</text>");
        }

        svg.Append("</svg>");
        return new MarkupString(svg.ToString());
    }

    /// <summary>A small node-link view: nodes on a circle, labelled edges between them (at most 40 nodes are drawn).</summary>
    public static MarkupString Graph(IReadOnlyList<GraphEdge> edges, string testId)
    {
        var nodes = edges.SelectMany(e => new[] { e.From, e.To }).Distinct(StringComparer.Ordinal).Take(40).ToList();
        var index = nodes.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
        const int size = 520;
        var radius = nodes.Count <= 1 ? 0 : 200.0;
        (double X, double Y) At(int i) => (size / 2.0 + (radius * Math.Cos(2 * Math.PI * i / Math.Max(1, nodes.Count))), size / 2.0 + (radius * Math.Sin(2 * Math.PI * i / Math.Max(1, nodes.Count))));
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"chart graph\" data-testid=\"{Esc(testId)}\" role=\"img\" viewBox=\"0 0 {size} {size}\" width=\"{size}\" height=\"{size}\">");
        foreach (var e in edges.Where(e => index.ContainsKey(e.From) && index.ContainsKey(e.To)))
        {
            var (x1, y1) = At(index[e.From]);
            var (x2, y2) = At(index[e.To]);
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"edge\" data-from=\"{Esc(e.From)}\" data-to=\"{Esc(e.To)}\"><line x1=\"{x1:0.#}\" y1=\"{y1:0.#}\" x2=\"{x2:0.#}\" y2=\"{y2:0.#}\" stroke=\"#94a3b8\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{(x1 + x2) / 2:0.#}\" y=\"{(y1 + y2) / 2:0.#}\" font-size=\"10\" fill=\"#64748b\">{Esc(Clip(e.Relation, 20))}</text></g>");
        }

        for (var i = 0; i < nodes.Count; i++)
        {
            var (x, y) = At(i);
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"node\" data-name=\"{Esc(nodes[i])}\"><circle cx=\"{x:0.#}\" cy=\"{y:0.#}\" r=\"6\" fill=\"#2563eb\"/><text x=\"{x + 8:0.#}\" y=\"{y + 4:0.#}\" font-size=\"11\">{Esc(Clip(nodes[i], 28))}</text></g>");
        }

        svg.Append("</svg>");
        return new MarkupString(svg.ToString());
    }

    private static string F(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);

    private static string Signed(double v) => (v > 0 ? "+" : "") + v.ToString("0.####", CultureInfo.InvariantCulture);

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private static string Esc(string text) => WebUtility.HtmlEncode(text);
}
