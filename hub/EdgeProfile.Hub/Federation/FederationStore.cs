using System.Data.Common;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeProfile.Federated.Jobs;
using EdgeProfile.Hub.Storage;

namespace EdgeProfile.Hub.Federation;

/// <summary>
/// Federated jobs in the hub database (SQLite or PostgreSQL): specs, states, checkpoints (global parameters and
/// optimiser state after the last completed round, written with that round in one transaction), rounds and
/// participation. Holds aggregates only: no individual client update is ever written.
/// </summary>
internal sealed class FederationStore(HubDatabase db, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = FederatedJobSpec.Json;

    /// <summary>Creates a pending job; returns its summary.</summary>
    public async Task<JobSummary> CreateAsync(FederatedJobSpec spec, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var id = "job-" + time.GetUtcNow().ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await db.WriteAsync((c, tx) => Sql.Exec(c, tx, """
            INSERT INTO fl_jobs(id, name, spec, state, round, created_at, created_by) VALUES (@id, @n, @s, @st, 0, @t, @a);
            """, ("@id", id), ("@n", spec.Name), ("@s", JsonSerializer.Serialize(spec, Json)), ("@st", JobStates.Pending), ("@t", now), ("@a", actor)),
            cancellationToken).ConfigureAwait(false);
        return (await GetAsync(id, cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Every job, newest first.</summary>
    public Task<IReadOnlyList<JobSummary>> ListAsync(CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<JobSummary>>(c => ReadSummaries(c, "SELECT id, name, spec, state, reason, round, epsilon, created_at, finished_at, model_version FROM fl_jobs ORDER BY created_at DESC, id DESC;"), cancellationToken);

    /// <summary>One job's summary, or null.</summary>
    public async Task<JobSummary?> GetAsync(string id, CancellationToken cancellationToken) =>
        (await db.ReadAsync(c => ReadSummaries(c, "SELECT id, name, spec, state, reason, round, epsilon, created_at, finished_at, model_version FROM fl_jobs WHERE id = @id;", ("@id", id)), cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    /// <summary>One job with its spec, rounds and participation, or null.</summary>
    public Task<JobDetail?> DetailAsync(string id, CancellationToken cancellationToken) => db.ReadAsync(c =>
    {
        var summary = ReadSummaries(c, "SELECT id, name, spec, state, reason, round, epsilon, created_at, finished_at, model_version FROM fl_jobs WHERE id = @id;", ("@id", id)).FirstOrDefault();
        if (summary is null)
        {
            return null;
        }
        var spec = JsonSerializer.Deserialize<FederatedJobSpec>(Sql.Text(c, null, "SELECT spec FROM fl_jobs WHERE id = @id;", ("@id", id))!, Json)!;
        var rounds = new List<RoundSummary>();
        using (var command = Sql.Command(c, null, """
            SELECT round, state, attempt, started_at, finished_at, invited, updates, dropped, stragglers, rejected, metrics, epsilon, model_version, reason
            FROM fl_rounds WHERE job_id = @id ORDER BY round;
            """, ("@id", id)))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                rounds.Add(new RoundSummary(
                    I32(reader, 0), reader.GetString(1), I32(reader, 2), At(reader.GetInt64(3)),
                    reader.IsDBNull(4) ? null : At(reader.GetInt64(4)), I32(reader, 5), I32(reader, 6), I32(reader, 7), I32(reader, 8),
                    JsonSerializer.Deserialize<string[]>(reader.GetString(9))!, JsonSerializer.Deserialize<Dictionary<string, double>>(reader.GetString(10))!,
                    reader.IsDBNull(11) ? null : reader.GetDouble(11), reader.IsDBNull(12) ? null : reader.GetString(12), reader.IsDBNull(13) ? null : reader.GetString(13)));
            }
        }
        var participation = new List<ParticipationEntry>();
        using (var command = Sql.Command(c, null, "SELECT round, client_id, status, samples, metrics, reason FROM fl_participation WHERE job_id = @id ORDER BY round, client_id;", ("@id", id)))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                participation.Add(new ParticipationEntry(I32(reader, 0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                    JsonSerializer.Deserialize<Dictionary<string, double>>(reader.GetString(4))!, reader.IsDBNull(5) ? null : reader.GetString(5)));
            }
        }
        return new JobDetail(summary.Id, summary.Name, summary.State, summary.Reason, summary.Round, summary.Rounds, summary.Strategy, summary.SecureAggregation,
            summary.Epsilon, summary.CreatedAt, summary.FinishedAt, summary.ModelVersion, spec, rounds, participation);
    }, cancellationToken);

    /// <summary>Jobs a runner should drive (pending or running), oldest first, with their checkpoints.</summary>
    public Task<IReadOnlyList<JobCheckpoint>> ActiveAsync(CancellationToken cancellationToken) => db.ReadAsync<IReadOnlyList<JobCheckpoint>>(c =>
    {
        var jobs = new List<JobCheckpoint>();
        using var command = Sql.Command(c, null, """
            SELECT id, spec, state, round, template, global, optimizer, epsilon, model_version FROM fl_jobs
            WHERE state IN ('pending', 'running') ORDER BY created_at, id;
            """);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            jobs.Add(new JobCheckpoint(reader.GetString(0), JsonSerializer.Deserialize<FederatedJobSpec>(reader.GetString(1), Json)!, reader.GetString(2), I32(reader, 3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : Floats((byte[])reader.GetValue(5)),
                reader.IsDBNull(6) ? null : (byte[])reader.GetValue(6), reader.IsDBNull(7) ? null : reader.GetDouble(7), reader.IsDBNull(8) ? null : reader.GetString(8)));
        }
        return jobs;
    }, cancellationToken);

    /// <summary>The job's state (null: unknown job).</summary>
    public Task<string?> StateAsync(string id, CancellationToken cancellationToken) =>
        db.ReadAsync(c => Sql.Text(c, null, "SELECT state FROM fl_jobs WHERE id = @id;", ("@id", id)), cancellationToken);

    /// <summary>Marks a job running.</summary>
    public Task StartAsync(string id, CancellationToken cancellationToken) => db.WriteAsync((c, tx) =>
        Sql.Exec(c, tx, "UPDATE fl_jobs SET state = 'running' WHERE id = @id AND state = 'pending';", ("@id", id)), cancellationToken);

    /// <summary>Ends a job (completed, failed or stopped) with a reason; false when it had already ended.</summary>
    public Task<bool> FinishAsync(string id, string state, string? reason, CancellationToken cancellationToken) => db.WriteAsync((c, tx) =>
        Sql.Exec(c, tx, "UPDATE fl_jobs SET state = @s, reason = @r, finished_at = @t WHERE id = @id AND state IN ('pending', 'running');",
            ("@id", id), ("@s", state), ("@r", (object?)reason ?? DBNull.Value), ("@t", time.GetUtcNow().ToUnixTimeMilliseconds())) == 1, cancellationToken);

    /// <summary>Records a round as started (or restarted: attempt counts retries).</summary>
    public Task BeginRoundAsync(string id, int round, int attempt, int invited, CancellationToken cancellationToken) => db.WriteAsync((c, tx) =>
    {
        Sql.Exec(c, tx, "DELETE FROM fl_participation WHERE job_id = @id AND round = @r;", ("@id", id), ("@r", round));
        return Sql.Exec(c, tx, """
            INSERT INTO fl_rounds(job_id, round, state, attempt, started_at, invited, updates, dropped, stragglers, rejected, metrics)
            VALUES (@id, @r, 'running', @a, @t, @i, 0, 0, 0, '[]', '{}')
            ON CONFLICT (job_id, round) DO UPDATE SET state = 'running', attempt = @a, started_at = @t, finished_at = NULL, invited = @i,
                updates = 0, dropped = 0, stragglers = 0, rejected = '[]', metrics = '{}', epsilon = NULL, model_version = NULL, reason = NULL;
            """, ("@id", id), ("@r", round), ("@a", attempt), ("@t", time.GetUtcNow().ToUnixTimeMilliseconds()), ("@i", invited));
    }, cancellationToken);

    /// <summary>Ends a round that did not complete (retrying or failed), with its counts and participation.</summary>
    public Task EndRoundAsync(string id, RoundOutcome outcome, string state, CancellationToken cancellationToken) => db.WriteAsync((c, tx) =>
    {
        WriteRound(c, tx, id, outcome, state);
        return 0;
    }, cancellationToken);

    /// <summary>
    /// Completes a round and checkpoints the job in one transaction: the round's counts, metrics and participation, and
    /// the job's new global parameters, optimiser state, privacy spent and model version.
    /// </summary>
    public Task CompleteRoundAsync(string id, RoundOutcome outcome, string? template, float[] global, byte[] optimizer, CancellationToken cancellationToken) =>
        db.WriteAsync((c, tx) =>
        {
            WriteRound(c, tx, id, outcome, "completed");
            return Sql.Exec(c, tx, """
                UPDATE fl_jobs SET round = @r, template = COALESCE(@tp, template), global = @g, optimizer = @o, epsilon = @e,
                    model_version = COALESCE(@v, model_version)
                WHERE id = @id;
                """, ("@id", id), ("@r", outcome.Round), ("@tp", (object?)template ?? DBNull.Value), ("@g", Bytes(global)), ("@o", optimizer),
                ("@e", (object?)outcome.Epsilon ?? DBNull.Value), ("@v", (object?)outcome.ModelVersion ?? DBNull.Value));
        }, cancellationToken);

    /// <summary>Counts a late update against its round.</summary>
    public Task CountStragglerAsync(string id, int round, string client, CancellationToken cancellationToken) => db.WriteAsync((c, tx) =>
    {
        Sql.Exec(c, tx, "UPDATE fl_rounds SET stragglers = stragglers + 1 WHERE job_id = @id AND round = @r;", ("@id", id), ("@r", round));
        return Sql.Exec(c, tx, """
            UPDATE fl_participation SET status = 'straggler', reason = 'update arrived after the round closed; discarded'
            WHERE job_id = @id AND round = @r AND client_id = @c AND status = 'dropped';
            """, ("@id", id), ("@r", round), ("@c", client));
    }, cancellationToken);

    private void WriteRound(DbConnection c, DbTransaction tx, string id, RoundOutcome o, string state)
    {
        Sql.Exec(c, tx, """
            UPDATE fl_rounds SET state = @s, finished_at = @t, updates = @u, dropped = @d, rejected = @rj, metrics = @m, epsilon = @e,
                model_version = @v, reason = @why
            WHERE job_id = @id AND round = @r;
            """, ("@id", id), ("@r", o.Round), ("@s", state), ("@t", time.GetUtcNow().ToUnixTimeMilliseconds()), ("@u", o.Updates), ("@d", o.Dropped),
            ("@rj", JsonSerializer.Serialize(o.Rejected)), ("@m", JsonSerializer.Serialize(o.Metrics)), ("@e", (object?)o.Epsilon ?? DBNull.Value),
            ("@v", (object?)o.ModelVersion ?? DBNull.Value), ("@why", (object?)o.Reason ?? DBNull.Value));
        Sql.Exec(c, tx, "DELETE FROM fl_participation WHERE job_id = @id AND round = @r;", ("@id", id), ("@r", o.Round));
        var at = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var p in o.Participation)
        {
            Sql.Exec(c, tx, """
                INSERT INTO fl_participation(job_id, round, client_id, status, samples, metrics, reason, at) VALUES (@id, @r, @c, @s, @n, @m, @why, @t);
                """, ("@id", id), ("@r", o.Round), ("@c", p.Client), ("@s", p.Status), ("@n", p.Samples), ("@m", JsonSerializer.Serialize(p.Metrics)),
                ("@why", (object?)p.Reason ?? DBNull.Value), ("@t", at));
        }
    }

    private static List<JobSummary> ReadSummaries(DbConnection c, string sql, params (string, object)[] parameters)
    {
        var result = new List<JobSummary>();
        using var command = Sql.Command(c, null, sql, parameters);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var spec = JsonSerializer.Deserialize<FederatedJobSpec>(reader.GetString(2), Json)!;
            result.Add(new JobSummary(reader.GetString(0), reader.GetString(1), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                I32(reader, 5), spec.Rounds, spec.Strategy, spec.SecureAggregation, reader.IsDBNull(6) ? null : reader.GetDouble(6),
                At(reader.GetInt64(7)), reader.IsDBNull(8) ? null : At(reader.GetInt64(8)), reader.IsDBNull(9) ? null : reader.GetString(9)));
        }
        return result;
    }

    private static int I32(DbDataReader reader, int i) => Convert.ToInt32(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);

    private static DateTimeOffset At(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    /// <summary>float32 little-endian.</summary>
    public static byte[] Bytes(float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    /// <summary>Reads <see cref="Bytes"/>' output.</summary>
    public static float[] Floats(byte[] bytes) => MemoryMarshal.Cast<byte, float>(bytes).ToArray();
}

/// <summary>What a round produced, for the store: counts, metrics, privacy spent, model version and participation.</summary>
internal sealed record RoundOutcome(
    int Round,
    int Updates,
    int Dropped,
    IReadOnlyList<string> Rejected,
    IReadOnlyDictionary<string, double> Metrics,
    double? Epsilon,
    string? ModelVersion,
    string? Reason,
    IReadOnlyList<ParticipationEntry> Participation);
