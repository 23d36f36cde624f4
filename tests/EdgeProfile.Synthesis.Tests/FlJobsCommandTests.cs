using System.Text.Json;
using EdgeProfile.Cli;
using EdgeProfile.Cli.HubApi;
using EdgeProfile.Cli.Output;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace EdgeProfile.Synthesis.Tests;

/// <summary>
/// <c>edgeprofile fl jobs ...</c> run in-process: the job spec is checked before anything is sent, flags override the
/// job file, and a job's rounds and participation are rendered from the hub's JSON. A small HTTP server on loopback
/// stands in for the hub's <c>/api/fl/jobs</c> (the real endpoints are tested with the hub).
/// </summary>
[Collection(ConsoleCapture.Collection)]
public sealed class FlJobsCommandTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public async Task Every_problem_of_the_spec_is_printed_on_its_own_line_with_the_usage_exit_code_and_nothing_is_sent()
    {
        await using var hub = await RecordingHub.StartAsync();

        var run = await ConsoleCapture.RunAsync(
            "fl", "jobs", "create", "--hub", hub.Url, "--name", "bad name", "--features", "spend_30d,spend_30d",
            "--task", "buy:binary:purchase_next_30d", "--rounds", "0", "--noise", "1.1");

        Assert.Equal(ExitCodes.Usage, run.Code);
        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.All(lines, l => Assert.StartsWith("edgeprofile: job spec: ", l, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("name: required", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("features: listed twice: spend_30d", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("rounds: 1-10000", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("clipNorm: required when noiseMultiplier > 0", StringComparison.Ordinal));
        Assert.Equal(4, lines.Length);
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public async Task A_label_participants_cannot_compute_is_refused_before_sending()
    {
        await using var hub = await RecordingHub.StartAsync();

        var run = await ConsoleCapture.RunAsync(
            "fl", "jobs", "create", "--hub", hub.Url, "--name", "ok", "--features", "spend_30d", "--task", "buy:binary:bought_soon");

        Assert.Equal(ExitCodes.Usage, run.Code);
        Assert.Contains("tasks.buy.label: label 'bought_soon': expected purchase_next_<N>d", run.Error, StringComparison.Ordinal);
        Assert.Empty(hub.Requests);
    }

    [Theory]
    [InlineData("--task", "buy:binary", "expected NAME:KIND:LABEL")]
    [InlineData("--round-timeout", "soon", "--round-timeout 'soon' is not a duration")]
    [InlineData("--rounds", "many", "many")]
    public async Task A_malformed_flag_is_a_usage_error_naming_it(string flag, string value, string expected)
    {
        var run = await ConsoleCapture.RunAsync("fl", "jobs", "create", "--hub", "http://127.0.0.1:9", "--name", "ok", "--features", "spend_30d",
            "--task", "buy:binary:purchase_next_30d", flag, value);

        Assert.Equal(ExitCodes.Usage, run.Code);
        Assert.Contains(expected, run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_key_in_the_job_file_is_a_usage_error_naming_it()
    {
        var file = dir.Write("job.json", """{ "name": "ok", "features": ["spend_30d"], "round": 5 }""");

        var run = await ConsoleCapture.RunAsync("fl", "jobs", "create", "--hub", "http://127.0.0.1:9", "--file", file);

        Assert.Equal(ExitCodes.Usage, run.Code);
        Assert.Contains("--file " + file + " is not a job spec", run.Error, StringComparison.Ordinal);
        Assert.Contains("'round'", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flags_override_the_job_file_and_the_hub_receives_the_merged_spec()
    {
        await using var hub = await RecordingHub.StartAsync();
        hub.Reply(201, """
            { "id": "job-7", "name": "churn-fl", "state": "pending", "reason": null, "round": 0, "rounds": 7, "strategy": "fedadam",
              "secureAggregation": false, "epsilon": null, "createdAt": "2026-11-30T06:00:00Z", "finishedAt": null, "modelVersion": null }
            """);
        var file = dir.Write("job.json", """
            {
              "name": "churn-fl", "features": ["spend_30d", "purchases_30d"],
              "tasks": [{ "name": "churn", "kind": "binary", "label": "churn_next_30d" }],
              "rounds": 3, "strategy": "fedavg", "secureAggregation": true, "minClients": 3, "clients": ["a"], "localEpochs": 4
            }
            """);

        var run = await ConsoleCapture.RunAsync("fl", "jobs", "create", "--hub", hub.Url, "--file", file,
            "--rounds", "7", "--strategy", "fedadam", "--secagg", "false", "--clients", "s1, s2", "--round-timeout", "2m", "--lr", "0.05");

        Assert.Equal(ExitCodes.Ok, run.Code);
        var request = Assert.Single(hub.Requests);
        Assert.Equal("POST /api/fl/jobs", request.Line);
        using var body = JsonDocument.Parse(request.Body);
        var sent = body.RootElement;
        Assert.Equal("churn-fl", sent.GetProperty("name").GetString());
        Assert.Equal(["spend_30d", "purchases_30d"], sent.GetProperty("features").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("churn_next_30d", sent.GetProperty("tasks")[0].GetProperty("label").GetString());
        Assert.Equal(7, sent.GetProperty("rounds").GetInt32());
        Assert.Equal("fedadam", sent.GetProperty("strategy").GetString());
        Assert.False(sent.GetProperty("secureAggregation").GetBoolean());
        Assert.Equal(3, sent.GetProperty("minClients").GetInt32());
        Assert.Equal(4, sent.GetProperty("localEpochs").GetInt32());
        Assert.Equal(120, sent.GetProperty("roundTimeoutSeconds").GetInt32());
        Assert.Equal(0.05, sent.GetProperty("learningRate").GetDouble());
        Assert.Equal(["s1", "s2"], sent.GetProperty("clients").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("Job job-7 (churn-fl): pending, round 0/7, fedadam", run.Output, StringComparison.Ordinal);
        Assert.Contains("edgeprofile fl jobs show job-7", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_hubs_refusal_of_the_spec_is_a_usage_error_with_its_reason()
    {
        await using var hub = await RecordingHub.StartAsync();
        hub.Reply(400, """{ "error": "features: foo_7d is not registered" }""");

        var run = await ConsoleCapture.RunAsync("fl", "jobs", "create", "--hub", hub.Url, "--name", "ok", "--features", "foo_7d",
            "--task", "buy:binary:purchase_next_30d");

        Assert.Equal(ExitCodes.Usage, run.Code);
        Assert.Single(run.Error.Trim().Split('\n'));
        Assert.Contains("features: foo_7d is not registered", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stopping_an_unknown_job_says_so()
    {
        await using var hub = await RecordingHub.StartAsync();
        hub.Reply(404, """{ "error": "no such job" }""");

        var run = await ConsoleCapture.RunAsync("fl", "jobs", "stop", "job-nope", "--hub", hub.Url);

        Assert.Equal(ExitCodes.Failed, run.Code);
        Assert.Equal("POST /api/fl/jobs/job-nope/stop", Assert.Single(hub.Requests).Line);
        Assert.Contains("federated job job-nope does not exist", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"rounds\": 5, \"roundHistory\"")]
    [InlineData("\"rounds\"")]
    public void A_job_detail_shows_each_round_and_each_clients_participation(string roundsKey)
    {
        // The hub lists the rounds under "roundHistory" beside the number of rounds; a list under "rounds" reads the same.
        var job = FlJobDetail.Parse($$"""
            {
              "id": "job-3", "name": "churn-fl", "state": "running", "reason": null, "round": 2, "strategy": "fedavg",
              "secureAggregation": true, "epsilon": 1.25, "createdAt": "2026-11-30T06:00:00Z", "finishedAt": null, "modelVersion": "churn-fl-r2",
              "spec": { "name": "churn-fl", "features": ["spend_30d"], "tasks": [{ "name": "churn", "kind": "binary", "label": "churn_next_30d" }], "rounds": 5 },
              {{roundsKey}}: [
                { "round": 2, "state": "completed", "startedAt": "2026-11-30T06:02:00Z", "finishedAt": "2026-11-30T06:03:00Z", "invited": 4, "updates": 3,
                  "dropped": 1, "stragglers": 0, "rejected": [], "metrics": { "loss": 0.5123, "auc.churn": 0.7123, "seconds": 12 }, "epsilon": 1.25,
                  "modelVersion": "churn-fl-r2", "reason": null },
                { "round": 1, "state": "completed", "attempt": 2, "startedAt": "2026-11-30T06:00:00Z", "finishedAt": "2026-11-30T06:01:00Z", "invited": 4, "updates": 4,
                  "dropped": 0, "stragglers": 0, "rejected": ["s4"], "metrics": { "loss": 0.6, "auc.churn": 0.65 }, "epsilon": 0.8,
                  "modelVersion": "churn-fl-r1", "reason": null }
              ],
              "participation": [
                { "round": 1, "client": "s1", "status": "updated", "samples": 1200, "metrics": { "loss": 0.61 }, "reason": null },
                { "round": 2, "client": "s1", "status": "updated", "samples": 1300, "metrics": { "loss": 0.52 }, "reason": null },
                { "round": 1, "client": "s2", "status": "updated", "samples": 800, "metrics": { "loss": 0.7 }, "reason": null },
                { "round": 2, "client": "s2", "status": "dropped", "samples": 0, "metrics": {}, "reason": "no answer by the deadline" }
              ]
            }
            """);
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(text),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 220;

        FlJobRenderer.WriteDetail(console, job);

        Assert.Equal(5, job.Summary.Rounds);
        Assert.Equal([1, 2], job.RoundReports.Select(r => r.Round).Order());
        var lines = text.ToString().Split('\n');
        Assert.Contains("Job job-3 (churn-fl): running, round 2/5", lines[0], StringComparison.Ordinal);
        Assert.Contains("fedavg with secure aggregation, ε spent 1.25, model churn-fl-r2, created 2026-11-30 06:00:00Z", lines[1], StringComparison.Ordinal);
        var round2 = Assert.Single(lines, l => l.Contains("churn-fl-r2", StringComparison.Ordinal) && l.Contains("3/4", StringComparison.Ordinal));
        Assert.Contains("0.5123", round2, StringComparison.Ordinal);
        Assert.Contains("0.7123", round2, StringComparison.Ordinal);
        var round1 = Assert.Single(lines, l => l.Contains("4/4", StringComparison.Ordinal));
        Assert.Contains("completed (attempt 2)", round1, StringComparison.Ordinal);
        Assert.Contains("s4", round1, StringComparison.Ordinal);
        Assert.Contains("0.6500", round1, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains("seconds", StringComparison.Ordinal));
        var s2 = Assert.Single(lines, l => l.Contains(" s2 ", StringComparison.Ordinal));
        Assert.Contains("round 2 dropped: no answer by the deadline", s2, StringComparison.Ordinal);
        Assert.Contains("800", s2, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains(" s1 ", StringComparison.Ordinal) && l.Contains("1,300", StringComparison.Ordinal));
    }

    /// <summary>Answers every request with a set status and body, and records what it was sent.</summary>
    private sealed class RecordingHub : IAsyncDisposable
    {
        private readonly WebApplication app;
        private int status = 500;
        private string body = "{}";

        private RecordingHub(WebApplication app) => this.app = app;

        public string Url => app.Urls.First();

        public List<(string Line, string Body)> Requests { get; } = [];

        public static async Task<RecordingHub> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var hub = new RecordingHub(app);
            app.Run(async context =>
            {
                using var reader = new StreamReader(context.Request.Body);
                var text = await reader.ReadToEndAsync(context.RequestAborted);
                lock (hub.Requests)
                {
                    hub.Requests.Add(($"{context.Request.Method} {context.Request.Path}", text));
                }

                context.Response.StatusCode = hub.status;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(hub.body, context.RequestAborted);
            });
            await app.StartAsync();
            return hub;
        }

        public void Reply(int statusCode, string json)
        {
            status = statusCode;
            body = json;
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}

/// <summary>
/// Runs the CLI in-process with stdout and stderr captured. The console is process-wide, so tests that capture it run
/// in a collection of their own, after the parallel ones.
/// </summary>
[CollectionDefinition(Collection, DisableParallelization = true)]
public sealed class ConsoleCapture
{
    public const string Collection = "Console capture (not parallel)";

    public static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var (before, beforeError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var code = await CliApp.RunAsync(args);
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(before);
            Console.SetError(beforeError);
        }
    }
}
