using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Hub.Ui;

/// <summary>
/// Where the UI and the API listen once the hub has started. The UI's URL is appended last to the server's URLs
/// (<see cref="HubApp.Build"/>), so with port 0 the last bound address is the UI's; the API is the first other one.
/// </summary>
internal sealed class UiEndpoint(IServer server, IOptions<HubOptions> options)
{
    private int _port = -1;
    private Uri? _api;

    /// <summary>The configured UI URL, or null when the UI is off.</summary>
    public Uri? Configured { get; } = ParseUrl(options.Value.Ui.Url);

    /// <summary>The UI's bound port (−1 before the server has bound it, or with the UI off).</summary>
    public int Port
    {
        get
        {
            if (_port >= 0 || Configured is null)
            {
                return _port;
            }

            if (Configured.Port != 0)
            {
                return _port = Configured.Port;
            }

            var last = Addresses().LastOrDefault();
            return last is null ? -1 : _port = last.Port;
        }
    }

    /// <summary>The UI's address, as a browser on this machine reaches it.</summary>
    public Uri? Address => Port < 0 ? null : Addresses().FirstOrDefault(a => a.Port == Port);

    /// <summary>The REST API's address (loopback), which the UI calls with the operator token.</summary>
    public Uri Api => _api ??= Addresses().FirstOrDefault(a => a.Port != Port)
        ?? throw new InvalidOperationException("the hub has no API address bound yet");

    /// <summary>An absolute http(s) URL with an explicit port, or null.</summary>
    public static Uri? ParseUrl(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var trimmed = text.Trim();
        var authority = trimmed.Contains("://", StringComparison.Ordinal) ? trimmed[(trimmed.IndexOf("://", StringComparison.Ordinal) + 3)..] : "";
        var hasPort = authority.Split('/')[0].LastIndexOf(':') > authority.Split('/')[0].LastIndexOf(']');
        if (!hasPort)
        {
            return null;
        }

        var forParse = trimmed.Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal);
        return Uri.TryCreate(forParse, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) ? uri : null;
    }

    private List<Uri> Addresses() =>
        [.. (server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
            .Where(a => !a.Contains("unix:", StringComparison.OrdinalIgnoreCase))
            .Select(a => new Uri(a.Replace("://+:", "://127.0.0.1:", StringComparison.Ordinal)
                .Replace("://*:", "://127.0.0.1:", StringComparison.Ordinal)
                .Replace("://[::]:", "://127.0.0.1:", StringComparison.Ordinal)
                .Replace("://0.0.0.0:", "://127.0.0.1:", StringComparison.Ordinal)
                .Replace("://localhost:", "://127.0.0.1:", StringComparison.Ordinal)))];
}

/// <summary>Extensions for hosts and tests: the UI's address.</summary>
public static class UiAddresses
{
    /// <summary>The started hub's UI address, or null when the UI is off (Hub:Ui:Url empty).</summary>
    public static Uri? UiAddress(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetService<UiEndpoint>()?.Address;
    }
}
