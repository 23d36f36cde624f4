using System.Security.Cryptography;
using System.Text.Json;
using EdgeProfile.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using V1 = EdgeProfile.Contracts.V1;

namespace EdgeProfile.Edge.Uplink;

/// <summary>
/// Runs first at start: loads the edge's credential and pseudonymisation key from its data dir, or trades the
/// one-time enrollment token for them at the hub (first start only), or makes a local key when standalone.
/// </summary>
public sealed partial class EnrollmentStartup(EdgeIdentity identity, IOptions<EdgeOptions> options, ILogger<EnrollmentStartup> logger) : IHostedService
{
    private const string CredentialFile = "credential.json";
    private const string KeyFile = "pseudonym.key";

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var dir = o.ResolvedDataDir;
        Directory.CreateDirectory(dir);
        var credentialPath = Path.Combine(dir, CredentialFile);
        var keyPath = Path.Combine(dir, KeyFile);

        StoredCredential? stored = null;
        if (File.Exists(credentialPath))
        {
            stored = JsonSerializer.Deserialize<StoredCredential>(await File.ReadAllTextAsync(credentialPath, cancellationToken).ConfigureAwait(false));
            if (stored is not null && stored.StoreId != o.StoreId)
            {
                throw new ConfigurationException($"Edge:StoreId '{o.StoreId}' differs from the store this data dir was enrolled as ('{stored.StoreId}'); use that store id or another Edge:DataDir");
            }
        }

        if (stored is null && !string.IsNullOrWhiteSpace(o.HubUrl))
        {
            if (string.IsNullOrWhiteSpace(o.EnrollmentToken))
            {
                throw new ConfigurationException($"Edge:EnrollmentToken is required for the first start with Edge:HubUrl (create one with: edgeprofile enroll create --store {o.StoreId})");
            }

            stored = await EnrollAsync(o, cancellationToken).ConfigureAwait(false);
            await WritePrivateAsync(keyPath, Convert.ToBase64String(stored.PseudonymKey), cancellationToken).ConfigureAwait(false);
            await WritePrivateAsync(credentialPath, JsonSerializer.Serialize(stored), cancellationToken).ConfigureAwait(false);
            LogEnrolled(logger, o.StoreId, o.HubUrl);
        }

        byte[] key;
        if (!string.IsNullOrEmpty(o.PseudonymKey))
        {
            key = Convert.FromBase64String(o.PseudonymKey);
        }
        else if (stored is not null)
        {
            key = stored.PseudonymKey;
        }
        else if (File.Exists(keyPath))
        {
            key = Convert.FromBase64String((await File.ReadAllTextAsync(keyPath, cancellationToken).ConfigureAwait(false)).Trim());
        }
        else
        {
            key = RandomNumberGenerator.GetBytes(32);
            await WritePrivateAsync(keyPath, Convert.ToBase64String(key), cancellationToken).ConfigureAwait(false);
            LogStandaloneKey(logger, keyPath);
        }

        identity.Set(key, stored?.Credential);
        if (stored is null)
        {
            LogStandalone(logger, o.StoreId);
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task<StoredCredential> EnrollAsync(EdgeOptions o, CancellationToken cancellationToken)
    {
        using var hub = new HubClients(o.HubUrl);
        var deadline = DateTime.UtcNow + o.EnrollTimeout;
        var delay = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                var reply = await hub.Enrollment.EnrollAsync(
                    new V1.EnrollRequest { Token = o.EnrollmentToken, StoreId = o.StoreId, AgentVersion = typeof(EnrollmentStartup).Assembly.GetName().Version?.ToString() ?? "" },
                    // The whole enrollment window, not a short per-attempt one: an answer that arrives late from a busy
                    // hub is still this edge's credential, while a retry after giving up on it would find the
                    // one-time token used. An unreachable hub still fails fast (connect timeout) and is retried.
                    deadline: deadline,
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                return new StoredCredential(reply.StoreId, reply.Credential, reply.PseudonymKey.ToByteArray(), o.HubUrl);
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.PermissionDenied or StatusCode.Unauthenticated or StatusCode.InvalidArgument or StatusCode.NotFound)
            {
                throw new ConfigurationException($"Edge:EnrollmentToken was refused by the hub at {o.HubUrl}: {ex.Status.Detail}");
            }
            catch (RpcException ex) when (DateTime.UtcNow < deadline)
            {
                LogEnrollRetry(logger, o.HubUrl, ex.Status.Detail);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
            catch (RpcException ex)
            {
                throw new ConfigurationException($"Edge:HubUrl {o.HubUrl} did not answer the enrollment within Edge:EnrollTimeout ({o.EnrollTimeout}): {ex.Status.Detail}");
            }
        }
    }

    private static async Task WritePrivateAsync(string path, string content, CancellationToken cancellationToken)
    {
        var tmp = path + ".tmp";
        await File.WriteAllTextAsync(tmp, content, cancellationToken).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(tmp, path, overwrite: true);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Enrolled as {StoreId} with the hub at {HubUrl}")]
    private static partial void LogEnrolled(ILogger logger, string storeId, string hubUrl);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hub at {HubUrl} not reachable for enrollment yet ({Detail}); retrying")]
    private static partial void LogEnrollRetry(ILogger logger, string hubUrl, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generated a local pseudonymisation key at {Path}: identifiers will not match other stores' until this edge enrolls with a hub")]
    private static partial void LogStandaloneKey(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store {StoreId} runs standalone (no Edge:HubUrl): no uplink")]
    private static partial void LogStandalone(ILogger logger, string storeId);

    private sealed record StoredCredential(string StoreId, string Credential, byte[] PseudonymKey, string HubUrl);
}
