using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace EdgeProfile.Hub.Ui;

/// <summary>
/// The page language of one request: <c>en</c> or <c>zh-CN</c>, from the <see cref="Cookie"/> cookie (set by the
/// switch in the header) or else the browser's Accept-Language. Pages write each text in both languages inline,
/// <c>@Lang.T("Stores", "门店")</c>, so a page and its translation are read and changed together.
/// </summary>
internal sealed class UiLang(IHttpContextAccessor accessor)
{
    /// <summary>The cookie that keeps the chosen language.</summary>
    public const string Cookie = "ep_lang";

    /// <summary>Simplified Chinese.</summary>
    public const string Chinese = "zh-CN";

    /// <summary>English.</summary>
    public const string English = "en";

    private string? _code;

    /// <summary><see cref="English"/> or <see cref="Chinese"/>.</summary>
    public string Code => _code ??= Detect(accessor.HttpContext);

    /// <summary>Whether the page is in Chinese.</summary>
    public bool IsZh => Code == Chinese;

    /// <summary>The text in the page's language.</summary>
    public string T(string en, string zh) => IsZh ? zh : en;

    /// <summary>A count with thousands separators.</summary>
    public static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A number as the API gave it, rounded to <paramref name="decimals"/> for reading.</summary>
    public static string F(double value, int decimals = 3) => value.ToString("0." + new string('#', decimals), CultureInfo.InvariantCulture);

    /// <summary>A time in UTC, to the second.</summary>
    public static string Time(DateTimeOffset? at) => at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z" : "—";

    /// <summary>A duration in the page's language, coarse (s, min, h, d).</summary>
    public string Age(TimeSpan age)
    {
        if (age < TimeSpan.Zero)
        {
            age = TimeSpan.Zero;
        }

        return age.TotalSeconds < 90 ? T($"{age.TotalSeconds:0} s", $"{age.TotalSeconds:0} 秒")
            : age.TotalMinutes < 90 ? T($"{age.TotalMinutes:0} min", $"{age.TotalMinutes:0} 分钟")
            : age.TotalHours < 48 ? T($"{age.TotalHours:0} h", $"{age.TotalHours:0} 小时")
            : T($"{age.TotalDays:0} d", $"{age.TotalDays:0} 天");
    }

    /// <summary>The language of a request: the cookie, else the first of Accept-Language that starts with zh, else English.</summary>
    public static string Detect(HttpContext? context)
    {
        if (context is null)
        {
            return English;
        }

        if (context.Request.Cookies.TryGetValue(Cookie, out var chosen) && Normalize(chosen) is { } code)
        {
            return code;
        }

        var accept = context.Request.Headers.AcceptLanguage.ToString();
        return accept.TrimStart().StartsWith("zh", StringComparison.OrdinalIgnoreCase) ? Chinese : English;
    }

    /// <summary><see cref="English"/> or <see cref="Chinese"/> for a code in any case (zh, zh-cn, en-US ...), or null.</summary>
    public static string? Normalize(string? code) =>
        code is null ? null
        : code.StartsWith("zh", StringComparison.OrdinalIgnoreCase) ? Chinese
        : code.StartsWith("en", StringComparison.OrdinalIgnoreCase) ? English
        : null;
}
