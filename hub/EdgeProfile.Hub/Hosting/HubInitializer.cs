using EdgeProfile.Hub.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Hosting;

/// <summary>
/// Opens storage and loads (or creates) the hub's secrets before the server accepts connections: hosted services
/// start before Kestrel, so a bad data directory fails the start instead of the first request.
/// </summary>
internal sealed class HubInitializer : IHostedService
{
    private readonly HubDatabase _db;
    private readonly HubSecrets _secrets;
    private readonly HubPaths _paths;
    private readonly ILogger<HubInitializer> _logger;

    public HubInitializer(HubDatabase db, HubSecrets secrets, HubPaths paths, ILogger<HubInitializer> logger)
    {
        _db = db;
        _secrets = secrets;
        _paths = paths;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _db.Open();
        _secrets.Load();
        HubLog.Started(_logger, _db.Location, HubSchema.CurrentVersion);
        if (_secrets.OperatorTokenFile is not { } tokenFile)
        {
            HubLog.OperatorTokenConfigured(_logger);
        }
        else if (_secrets.OperatorTokenCreated)
        {
            HubLog.OperatorTokenCreated(_logger, tokenFile);
        }
        else
        {
            HubLog.OperatorTokenRead(_logger, tokenFile);
        }

        foreach (var secret in new[] { _paths.PseudonymKey, _secrets.OperatorTokenFile })
        {
            if (secret is not null && File.Exists(secret) && SecretFile.IsExposed(secret))
            {
                HubLog.SecretExposed(_logger, secret);
            }
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
