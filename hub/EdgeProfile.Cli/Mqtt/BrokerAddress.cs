namespace EdgeProfile.Cli.Mqtt;

/// <summary>An MQTT broker named by a URL: <c>mqtt://[user[:password]@]host[:port]</c> (also <c>tcp://</c>, <c>mqtts://</c>).</summary>
public sealed record BrokerAddress(string Host, int Port, bool Tls, string? Username, string? Password)
{
    /// <summary>Parses <paramref name="text"/>; throws a usage <see cref="CliException"/> naming the option when it is not a broker URL.</summary>
    public static BrokerAddress Parse(string? text, string option = "--broker")
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new CliException($"{option} is required (e.g. mqtt://127.0.0.1:1883)", ExitCodes.Usage);
        }

        var value = text.Trim();
        if (!value.Contains("://", StringComparison.Ordinal))
        {
            value = "mqtt://" + value; // host:port is accepted too
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new CliException($"{option} '{text}' is not a broker URL (expected mqtt://HOST:PORT)", ExitCodes.Usage);
        }

        var tls = uri.Scheme switch
        {
            "mqtt" or "tcp" => false,
            "mqtts" or "ssl" or "tls" => true,
            _ => throw new CliException($"{option} '{text}' has scheme '{uri.Scheme}'; use mqtt:// (or mqtts:// for TLS)", ExitCodes.Usage),
        };

        if (uri.AbsolutePath is not ("/" or "") || !string.IsNullOrEmpty(uri.Query))
        {
            throw new CliException($"{option} '{text}' must not have a path or query; the topic comes from --store", ExitCodes.Usage);
        }

        var port = uri.IsDefaultPort || uri.Port < 0 ? (tls ? 8883 : 1883) : uri.Port;
        if (port is < 1 or > 65535)
        {
            throw new CliException($"{option} '{text}' has no valid port (1-65535)", ExitCodes.Usage);
        }

        string? user = null, password = null;
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var parts = uri.UserInfo.Split(':', 2);
            user = Uri.UnescapeDataString(parts[0]);
            password = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : null;
        }

        return new BrokerAddress(uri.IdnHost, port, tls, user, password);
    }

    /// <summary>The address without credentials, for messages.</summary>
    public override string ToString() => $"{(Tls ? "mqtts" : "mqtt")}://{Host}:{Port}";
}
