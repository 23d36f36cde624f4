using System.CommandLine;
using System.Globalization;
using EdgeProfile.Cli.HubApi;
using EdgeProfile.Cli.Partner;
using EdgeProfile.Contracts.V1;
using EdgeProfile.Federated.Participant;
using EdgeProfile.Synthesis;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Cli.Commands;

/// <summary>
/// <c>partner join</c>: a partner brand takes part in the hub's federated rounds with its own transactions file. It
/// enrolls once with a one-time token (the credential is kept in its state directory), reads its CSV, and answers the
/// hub's tasks until stopped; only model updates and sums leave the machine, never a row.
/// </summary>
public static class PartnerCommand
{
    /// <summary>Environment variable with the enrollment token when <c>--token</c> is not given.</summary>
    public const string TokenVariable = "EDGEPROFILE_ENROLLMENT_TOKEN";

    private const string IdRule = "1-64 characters of A-Z a-z 0-9 . _ -";

    /// <summary>Builds <c>partner</c> with <c>join</c>.</summary>
    public static Command Create() =>
        new("partner", "Partner brands: take part in federated learning with their own data") { Join() };

    private static Command Join()
    {
        var hub = new Option<string>("--hub")
        {
            Description = $"The hub's URL [env {HubConnectionOptions.HubVariable}; default {HubConnectionOptions.DefaultHubUrl}]",
            HelpName = "URL",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(HubConnectionOptions.HubVariable) is { Length: > 0 } env ? env : HubConnectionOptions.DefaultHubUrl,
        };
        var token = new Option<string?>("--token")
        {
            Description = $"One-time enrollment token from `edgeprofile enroll create --store ID --kind partner`; needed for the first join only [env {TokenVariable}]",
            HelpName = "TOKEN",
        };
        var data = new Option<FileInfo>("--data") { Description = "The partner's transactions CSV (.csv or .csv.gz) with a header", HelpName = "FILE.csv", Required = true };
        var mapping = new Option<FileInfo>("--mapping") { Description = "JSON column mapping, as for `features synthesize` (see deploy/synthesis/*.mapping.json)", HelpName = "FILE", Required = true };
        var partnerId = new Option<string?>("--partner-id") { Description = "The id the token was created for (--store of `enroll create`) [default: the one stored in --state]", HelpName = "ID" };
        var threads = new Option<int>("--threads") { Description = "Local training threads", HelpName = "N", DefaultValueFactory = _ => 2 };
        var state = new Option<DirectoryInfo?>("--state") { Description = "Where the credential is kept (credential.json, mode 600) [default: ~/.edgeprofile/partner-ID]", HelpName = "DIR" };

        var command = new Command("join", "Join the hub's federated rounds as a partner, training on FILE.csv locally until Ctrl+C; enrolls on the first join")
        {
            hub, token, data, mapping, partnerId, state, threads,
        };
        command.SetGuardedAction(async (r, ct) =>
        {
            var hubUrl = HubRestClient.ParseHubUrl(r.GetValue(hub));
            var threadCount = Positive(r.GetValue(threads), "--threads");
            var id = r.GetValue(partnerId)?.Trim();
            if (id is not null && !IsValidId(id))
            {
                throw new CliException($"--partner-id '{id}' is invalid: {IdRule}", ExitCodes.Usage);
            }

            var stateDir = r.GetValue(state)?.FullName
                ?? (id is not null ? PartnerCredential.DefaultDirectory(id) : throw new CliException("give --partner-id (the id the enrollment token was created for) or --state DIR of an earlier join", ExitCodes.Usage));
            var stored = PartnerCredential.Load(stateDir);
            if (stored is not null)
            {
                if (id is not null && id != stored.PartnerId)
                {
                    throw new CliException($"--partner-id '{id}' differs from the partner enrolled in {stateDir} ('{stored.PartnerId}'); use that id or another --state", ExitCodes.Usage);
                }

                if (!SameHub(stored.HubUrl, hubUrl))
                {
                    throw new CliException($"the credential in {stateDir} was issued by the hub at {stored.HubUrl}, not {hubUrl}; use that --hub or another --state", ExitCodes.Usage);
                }

                id = stored.PartnerId;
            }

            var enrollmentToken = r.GetValue(token) is { Length: > 0 } t ? t.Trim()
                : Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } env ? env.Trim() : null;
            if (stored is null && enrollmentToken is null)
            {
                throw new CliException($"--token is required for the first join (create one with: edgeprofile enroll create --store {id} --kind partner); no credential in {stateDir}", ExitCodes.Usage);
            }

            // The data first: a wrong file or mapping must not use up the one-time token.
            var source = await OpenDataAsync(r.GetValue(data)!, r.GetValue(mapping)!, id!, ct).ConfigureAwait(false);

            using var channel = GrpcChannel.ForAddress(hubUrl, new GrpcChannelOptions
            {
                MaxReceiveMessageSize = 64 * 1024 * 1024,
                MaxSendMessageSize = 64 * 1024 * 1024,
                HttpHandler = new SocketsHttpHandler
                {
                    EnableMultipleHttp2Connections = true,
                    KeepAlivePingDelay = TimeSpan.FromSeconds(20),
                    KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                    ConnectTimeout = TimeSpan.FromSeconds(5),
                },
            });
            if (stored is null)
            {
                stored = await EnrollAsync(new Enrollment.EnrollmentClient(channel), enrollmentToken!, id!, hubUrl, ct).ConfigureAwait(false);
                var path = stored.Save(stateDir);
                await Console.Out.WriteLineAsync($"Enrolled as {stored.Kind} {stored.PartnerId} with the hub at {hubUrl}; credential kept in {path} (later joins need no token)").ConfigureAwait(false);
                if (stored.Kind != "partner")
                {
                    await CommandRunner.Fail($"note: the token enrolled {stored.PartnerId} as a {stored.Kind}, not a partner (create partner tokens with --kind partner)").ConfigureAwait(false);
                }
            }
            else if (enrollmentToken is not null)
            {
                await Console.Out.WriteLineAsync($"Already enrolled as {stored.PartnerId} (credential in {stateDir}); --token is not needed").ConfigureAwait(false);
            }

            using var loggerFactory = LoggerFactory.Create(b => b
                .SetMinimumLevel(LogLevel.Information)
                .AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "HH:mm:ss ";
                }));
            var participant = new FederatedParticipant(
                new Federation.FederationClient(channel), stored.Headers(), source, loggerFactory.CreateLogger<FederatedParticipant>(), TimeProvider.System)
            {
                Threads = threadCount,
            };
            await Console.Out.WriteLineAsync($"Partner {stored.PartnerId} joined federated learning at {hubUrl}; waiting for tasks (Ctrl+C to leave)").ConfigureAwait(false);
            try
            {
                // Runs until Ctrl+C; it reconnects by itself when the hub goes away or refuses the credential (logged).
                await participant.RunAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ct.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                // Leaving is the normal end of a join.
            }

            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Partner {stored.PartnerId} left federated learning after answering {participant.TasksAnswered} task(s)")).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<PartnerCsvData> OpenDataAsync(FileInfo csv, FileInfo mapping, string id, CancellationToken ct)
    {
        if (!csv.Exists)
        {
            throw new CliException($"--data {csv.FullName} does not exist", ExitCodes.Usage);
        }

        if (!mapping.Exists)
        {
            throw new CliException($"--mapping {mapping.FullName} does not exist", ExitCodes.Usage);
        }

        try
        {
            var source = PartnerCsvData.Open(csv.FullName, mapping.FullName, id);
            var customers = await source.LoadCustomersAsync(ct).ConfigureAwait(false);
            var events = customers.Sum(c => (long)c.Count);
            if (events == 0)
            {
                throw new CliException($"--data {csv.FullName} has no transaction with a customer", ExitCodes.Usage);
            }

            var first = customers.Where(c => c.Count > 0).Min(c => c[0].TimestampMs);
            var last = customers.Where(c => c.Count > 0).Max(c => c[^1].TimestampMs);
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Read {events:N0} purchases of {customers.Count:N0} customers from {csv.Name} ({DateTimeOffset.FromUnixTimeMilliseconds(first):yyyy-MM-dd} to {DateTimeOffset.FromUnixTimeMilliseconds(last):yyyy-MM-dd}); they stay on this machine")).ConfigureAwait(false);
            return source;
        }
        catch (SynthesisException ex)
        {
            throw new CliException(ex.Message, ex.IsConfiguration ? ExitCodes.Usage : ExitCodes.Failed);
        }
    }

    private static async Task<PartnerCredential> EnrollAsync(Enrollment.EnrollmentClient client, string token, string id, Uri hubUrl, CancellationToken ct)
    {
        try
        {
            var reply = await client.EnrollAsync(
                new EnrollRequest { Token = token, StoreId = id, AgentVersion = "edgeprofile-cli " + (typeof(PartnerCommand).Assembly.GetName().Version?.ToString() ?? "0") },
                deadline: DateTime.UtcNow.AddSeconds(15),
                cancellationToken: ct).ConfigureAwait(false);
            return new PartnerCredential(reply.StoreId, reply.Kind, reply.Credential, hubUrl.AbsoluteUri, Convert.ToBase64String(reply.PseudonymKey.Span));
        }
        catch (RpcException ex) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException("enrollment interrupted", ex, ct);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.PermissionDenied or StatusCode.Unauthenticated or StatusCode.InvalidArgument or StatusCode.NotFound)
        {
            throw new CliException($"the hub at {hubUrl} refused the enrollment token for {id}: {ex.Status.Detail}", ExitCodes.Usage);
        }
        catch (RpcException ex)
        {
            throw new CliException($"cannot enroll with the hub at {hubUrl}: {ex.Status.StatusCode} {ex.Status.Detail} (is it running? pass --hub URL)", ex);
        }
    }

    private static int Positive(int value, string name) =>
        value >= 1 ? value : throw new CliException($"{name} must be at least 1 (got {value})", ExitCodes.Usage);

    private static bool IsValidId(string id) =>
        id.Length is >= 1 and <= 64 && id.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '_' or '-');

    private static bool SameHub(string stored, Uri hub) =>
        Uri.TryCreate(stored, UriKind.Absolute, out var s) && Uri.Compare(s, hub, UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
}
