using System.Globalization;

namespace EdgeProfile.Core.Explanations;

/// <summary>The languages reasons are written in.</summary>
public enum ReasonLanguage
{
    /// <summary>English (<c>en</c>); the default.</summary>
    En,

    /// <summary>Simplified Chinese (<c>zh-CN</c>).</summary>
    ZhCn,
}

/// <summary>
/// Reads a reason language from a query value (<c>en</c>, <c>en-US</c>, <c>zh</c>, <c>zh-CN</c>, <c>zh-Hans</c>, any
/// case) or from an <c>Accept-Language</c> header with q-weights (<c>zh-CN,zh;q=0.9,en;q=0.8</c>).
/// </summary>
public static class ReasonLanguages
{
    /// <summary>The language asked for; <see cref="ReasonLanguage.En"/> when the value is absent or names no supported language.</summary>
    public static ReasonLanguage Parse(string? value) => TryParse(value, out var language) ? language : ReasonLanguage.En;

    /// <summary>
    /// Reads a language. An absent or blank value, or <c>*</c>, means no preference: true with
    /// <see cref="ReasonLanguage.En"/>. A list is tried by descending q-weight (ties in order; <c>q=0</c> entries are
    /// refused); false when no entry names a supported language (e.g. <c>fr</c>), so an API can reject it.
    /// </summary>
    public static bool TryParse(string? value, out ReasonLanguage language)
    {
        language = ReasonLanguage.En;
        if (string.IsNullOrWhiteSpace(value))
        {
            return true;
        }

        var entries = new List<(string Tag, double Q, int Order)>();
        var parts = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            var pieces = parts[i].Split(';', StringSplitOptions.TrimEntries);
            var q = 1.0;
            var valid = true;
            for (var p = 1; p < pieces.Length; p++)
            {
                var eq = pieces[p].IndexOf('=', StringComparison.Ordinal);
                if (eq > 0 && string.Equals(pieces[p][..eq].Trim(), "q", StringComparison.OrdinalIgnoreCase))
                {
                    valid = double.TryParse(pieces[p][(eq + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out q)
                            && q is >= 0 and <= 1;
                }
            }

            if (valid && q > 0 && pieces[0].Length > 0)
            {
                entries.Add((pieces[0], q, i));
            }
        }

        var wildcard = false;
        foreach (var (tag, _, _) in entries.OrderByDescending(e => e.Q).ThenBy(e => e.Order))
        {
            if (tag == "*")
            {
                wildcard = true;
                continue;
            }

            if (FromTag(tag) is { } known)
            {
                language = known;
                return true;
            }
        }

        return wildcard;
    }

    /// <summary>
    /// The language an API request asks for: an explicit <paramref name="parameter"/> (<c>?lang=</c>) must be a supported
    /// one (false with <paramref name="error"/> otherwise); without it the <c>Accept-Language</c> header decides, English
    /// when it names nothing supported.
    /// </summary>
    public static bool TryFromRequest(string? parameter, string? acceptLanguage, out ReasonLanguage language, out string? error)
    {
        error = null;
        if (parameter is null)
        {
            language = Parse(acceptLanguage);
            return true;
        }

        if (TryParse(parameter, out language))
        {
            return true;
        }

        error = $"lang '{parameter}' is not supported (use en or zh-CN)";
        return false;
    }

    /// <summary>The language code: <c>en</c> or <c>zh-CN</c>.</summary>
    public static string Code(ReasonLanguage language) => language switch
    {
        ReasonLanguage.ZhCn => "zh-CN",
        _ => "en",
    };

    private static ReasonLanguage? FromTag(string tag)
    {
        var t = tag.Replace('_', '-');
        var dash = t.IndexOf('-', StringComparison.Ordinal);
        var primary = dash < 0 ? t : t[..dash];
        if (string.Equals(primary, "en", StringComparison.OrdinalIgnoreCase))
        {
            return ReasonLanguage.En;
        }

        return string.Equals(primary, "zh", StringComparison.OrdinalIgnoreCase) ? ReasonLanguage.ZhCn : null;
    }
}
