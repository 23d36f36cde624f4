using Microsoft.Extensions.Logging;

namespace EdgeProfile.Cli.Hosting;

/// <summary>Writes one host's log to the demo's shared <see cref="DemoLogFile"/>.</summary>
internal sealed class DemoFileLoggerProvider(DemoLogFile file, string host) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new FileLogger(file, host, categoryName);

    public void Dispose()
    {
        // The file belongs to the demo, which outlives each host.
    }

    private sealed class FileLogger(DemoLogFile file, string host, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var level = logLevel switch
            {
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                LogLevel.Critical => "crit",
                _ => logLevel.ToString().ToLowerInvariant(),
            };
            file.Write(host, level, category, formatter(state, exception), exception);
        }
    }
}
