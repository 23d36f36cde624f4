using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace EdgeProfile.Hub.Hosting;

/// <summary>
/// Serves HTTP/1.1 (REST, curl, browsers) and cleartext HTTP/2 with prior knowledge (gRPC) on one port.
/// </summary>
/// <remarks>
/// Kestrel (through .NET 10) speaks only HTTP/1.1 on a cleartext endpoint that allows both versions, and refuses an
/// h2c client with HTTP_1_1_REQUIRED (dotnet/aspnetcore#56984). This connection middleware peeks at the first bytes
/// without consuming them; when they are the HTTP/2 client preface (RFC 9113 §3.4) it tells Kestrel's protocol
/// selection "h2" the way the TLS layer would after ALPN. Kestrel then also takes the stream's transport scheme to be
/// https, so <see cref="KestrelServerOptions.AllowAlternateSchemes"/> is turned on and <see cref="GuardRequest"/>
/// restores the check that such requests say <c>:scheme http</c> and hides the marker from the application.
/// </remarks>
internal static class H2cPriorKnowledge
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    // A client that connects and stays silent this long is handed to HTTP/1.1, whose own timeouts then apply.
    private static readonly TimeSpan PeekTimeout = TimeSpan.FromSeconds(30);

    public static void Configure(KestrelServerOptions kestrel)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        kestrel.AllowAlternateSchemes = true;
        kestrel.ConfigureEndpointDefaults(listen => listen.Use(next => connection => OnConnectionAsync(listen, next, connection)));
    }

    /// <summary>Refuses an h2c request that claims another scheme, and hides the protocol marker from the app.</summary>
    public static Task GuardRequest(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.Features.Get<ITlsConnectionFeature>() is Marker)
        {
            context.Features.Set<ITlsConnectionFeature>(null);
            context.Features.Set<ITlsApplicationProtocolFeature>(null);
            if (!string.Equals(context.Request.Scheme, "http", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return Task.CompletedTask;
            }
        }

        return next(context);
    }

    private static async Task OnConnectionAsync(ListenOptions listen, ConnectionDelegate next, ConnectionContext connection)
    {
        var both = HttpProtocols.Http1AndHttp2;
        if ((listen.Protocols & both) == both && connection.Features.Get<ITlsConnectionFeature>() is null &&
            await StartsWithPrefaceAsync(connection).ConfigureAwait(false))
        {
            var marker = new Marker();
            connection.Features.Set<ITlsConnectionFeature>(marker);
            connection.Features.Set<ITlsApplicationProtocolFeature>(marker);
        }

        await next(connection).ConfigureAwait(false);
    }

    private static async Task<bool> StartsWithPrefaceAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(PeekTimeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }

            var buffer = result.Buffer;
            var length = (int)Math.Min(buffer.Length, Preface.Length);
            var matches = Matches(buffer.Slice(0, length), Preface.AsSpan(0, length));
            if (!matches || length == Preface.Length || result.IsCompleted || result.IsCanceled)
            {
                // Consume nothing and mark nothing examined: the protocol handler reads these bytes again at once.
                input.AdvanceTo(buffer.Start);
                return matches && length == Preface.Length;
            }

            // A prefix of the preface so far: wait for more bytes.
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool Matches(ReadOnlySequence<byte> bytes, ReadOnlySpan<byte> expected)
    {
        if (bytes.IsSingleSegment)
        {
            return bytes.FirstSpan.SequenceEqual(expected);
        }

        Span<byte> copy = stackalloc byte[expected.Length];
        bytes.CopyTo(copy);
        return copy.SequenceEqual(expected);
    }

    /// <summary>Stands in for ALPN "h2" on a cleartext connection; carries no certificate.</summary>
    private sealed class Marker : ITlsConnectionFeature, ITlsApplicationProtocolFeature
    {
        public X509Certificate2? ClientCertificate { get; set; }

        public ReadOnlyMemory<byte> ApplicationProtocol => "h2"u8.ToArray();

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) =>
            Task.FromResult<X509Certificate2?>(null);
    }
}
