using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hosting;

/// <summary>Host setup shared by every EdgeProfile executable.</summary>
public static class ServiceDefaults
{
    /// <summary>
    /// The environment variable that names an extra JSON settings file (e.g. <c>/etc/edgeprofile/edge.appsettings.json</c>;
    /// a relative path is taken from the working directory).
    /// </summary>
    public const string ConfigFileVariable = "EDGEPROFILE_CONFIG";

    /// <summary>
    /// The settings file named by <see cref="ConfigFileVariable"/>, read after <c>appsettings*.json</c> and before
    /// environment variables and the command line; console logging with timestamps; systemd integration (notify +
    /// journal format when run as a unit); and a graceful shutdown window long enough for the log writer and uplink
    /// to drain. Call it first, before anything reads <see cref="WebApplicationBuilder.Configuration"/>.
    /// </summary>
    /// <exception cref="ConfigurationException">The file named by <see cref="ConfigFileVariable"/> is missing or not valid JSON.</exception>
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddConfigFile(builder.Configuration, Environment.GetEnvironmentVariable(ConfigFileVariable));
        builder.Host.UseSystemd();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        // A failed start is thrown to the caller (ServiceRunner prints one line naming the key); the host's own
        // "Hosting failed to start" error with a stack trace would only repeat it.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        return builder;
    }

    private static void AddConfigFile(IConfigurationBuilder configuration, string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return;
        }

        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new ConfigurationException($"{ConfigFileVariable}={path}: no such file");
        }

        var source = new JsonConfigurationSource { Path = fullPath, Optional = false, ReloadOnChange = false };
        source.ResolveFileProvider();

        // The host builder has already added appsettings.json, environment variables and the command line; the file
        // goes in front of the (unprefixed) environment variables so that they and the command line still win.
        var sources = configuration.Sources;
        var index = LastIndexOf(sources, s => s is EnvironmentVariablesConfigurationSource { Prefix: null or "" });
        if (index < 0)
        {
            index = LastIndexOf(sources, s => s is CommandLineConfigurationSource);
        }

        try
        {
            sources.Insert(index < 0 ? sources.Count : index, source);
        }
        catch (InvalidDataException ex)
        {
            throw new ConfigurationException($"{ConfigFileVariable}={path}: {ex.GetBaseException().Message}", ex);
        }
    }

    private static int LastIndexOf(IList<IConfigurationSource> sources, Func<IConfigurationSource, bool> match)
    {
        for (var i = sources.Count - 1; i >= 0; i--)
        {
            if (match(sources[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
