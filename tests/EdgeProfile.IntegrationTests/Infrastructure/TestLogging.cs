using Microsoft.Extensions.Logging;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>Routes an in-process edge's or hub's log to the test's output (shown for failed tests).</summary>
public static class TestLogging
{
    public static void To(ILoggingBuilder logging, ITestOutputHelper? output, string source)
    {
        ArgumentNullException.ThrowIfNull(logging);
        logging.ClearProviders();
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Grpc", LogLevel.Warning);
        logging.AddFilter("System.Net.Http", LogLevel.Warning);
        if (output is not null)
        {
            logging.AddProvider(new OutputProvider(output, source));
        }
    }

    private sealed class OutputProvider(ITestOutputHelper output, string source) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new OutputLogger(output, source, categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class OutputLogger(ITestOutputHelper output, string source, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var shortCategory = category[(category.LastIndexOf('.') + 1)..];
            var line = $"{DateTime.Now:HH:mm:ss.fff} [{source}] {logLevel} {shortCategory}: {formatter(state, exception)}";
            if (exception is not null)
            {
                line += " | " + exception.GetType().Name + ": " + exception.Message;
            }

            try
            {
                output.WriteLine(line);
            }
            catch (InvalidOperationException)
            {
                // The test has finished; a late log line from a stopping host has nowhere to go.
            }
        }
    }
}
