using System.Globalization;
using System.Text;
using EdgeProfile.Models.Scoring;

namespace EdgeProfile.Models.Serving;

/// <summary>
/// The edge's model lifecycle: holds the serving model, scores with it, deploys candidates only after a canary, and
/// rolls back to the previous model. Transport-free: the caller fetches and persists model files.
/// </summary>
/// <remarks>
/// <para>Thread-safety: every member may be called concurrently. <see cref="Score"/> and <see cref="Lease"/> take no
/// lock: they read the current <see cref="ServedModel"/> (an immutable snapshot) and take a reference on it, so a
/// result's outputs and <see cref="ScoreResult.Version"/> always come from one model, and a swap never fails a call.
/// <see cref="TryDeploy(byte[], string, Canary)"/>, <see cref="Rollback"/>, <see cref="Dispose"/> and
/// <see cref="History"/> are serialised by one lock (a deploy holds it while its canary runs, so a concurrent
/// rollback waits for it); the switch itself is one reference write.</para>
/// <para>Lifetime: the host keeps the current model and the one it replaced (for <see cref="Rollback"/>); a model
/// the host lets go of is disposed once its in-flight calls and leases finish. <see cref="Dispose"/> lets go of both;
/// calls already running complete normally, later ones throw <see cref="ObjectDisposedException"/>.</para>
/// </remarks>
public sealed class ModelHost : IDisposable
{
    private readonly Lock gate = new();
    private readonly string[]? features;
    private readonly ModelHostOptions options;
    private readonly TimeProvider time;
    private readonly Queue<ModelHistoryEntry> history = new();
    private ServedModel? current;
    private ServedModel? previous;
    private volatile bool disposed;

    /// <summary>Creates a host with nothing deployed yet.</summary>
    /// <param name="features">The feature names, in the order rows are given; every model must take exactly these.</param>
    /// <param name="options">Canary margin and history size; null for the defaults.</param>
    /// <param name="timeProvider">Clock for history entries; null for the system clock.</param>
    public ModelHost(IReadOnlyList<string> features, ModelHostOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Count == 0)
        {
            throw new ArgumentException("a model host needs at least one feature", nameof(features));
        }

        this.features = [.. features];
        this.options = options ?? new ModelHostOptions();
        this.options.Validate();
        time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// Creates a host whose models each bring their own features (from their metadata, so such models must list them):
    /// a candidate may take other features than the serving model, and callers build each row for the model they
    /// score with (<see cref="Lease"/>, then <see cref="ServedModel.Features"/>). Deploy with
    /// <see cref="TryDeploy(byte[], string, Func{IReadOnlyList{string}, Canary})"/>.
    /// </summary>
    /// <param name="options">Canary margin and history size; null for the defaults.</param>
    /// <param name="timeProvider">Clock for history entries; null for the system clock.</param>
    public ModelHost(ModelHostOptions? options = null, TimeProvider? timeProvider = null)
    {
        this.options = options ?? new ModelHostOptions();
        this.options.Validate();
        time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The feature names every model must take, in row order; for a host whose models bring their own
    /// features, those of the serving model (empty before the first deploy).</summary>
    public IReadOnlyList<string> Features => features ?? Current?.Features ?? [];

    /// <summary>Whether every model must take the features given at construction (else each brings its own).</summary>
    public bool HasFixedFeatures => features is not null;

    /// <summary>The serving model, or null before the first deploy and after <see cref="Dispose"/>.</summary>
    public ServedModel? Current => Volatile.Read(ref current);

    /// <summary>The model <see cref="Rollback"/> would return to, or null.</summary>
    public ServedModel? Previous
    {
        get
        {
            lock (gate)
            {
                return previous;
            }
        }
    }

    /// <summary>Deploys, refusals and rollbacks, oldest first (at most <see cref="ModelHostOptions.HistoryCapacity"/>).</summary>
    public IReadOnlyList<ModelHistoryEntry> History
    {
        get
        {
            lock (gate)
            {
                return [.. history];
            }
        }
    }

    /// <summary>Scores one row of raw features (in <see cref="Features"/> order) with the serving model. On a host
    /// whose models bring their own features, use <see cref="Lease"/> instead: the row must be built for the model
    /// that scores it.</summary>
    /// <exception cref="InvalidOperationException">No model has been deployed yet.</exception>
    /// <exception cref="ObjectDisposedException">The host is disposed.</exception>
    public ScoreResult Score(ReadOnlySpan<float> features)
    {
        var model = AcquireCurrent();
        try
        {
            return new ScoreResult(model, model.Scorer.Score(features));
        }
        finally
        {
            model.Release();
        }
    }

    /// <summary>Pins the serving model until the lease is disposed, so several calls use one version.</summary>
    /// <exception cref="InvalidOperationException">No model has been deployed yet.</exception>
    /// <exception cref="ObjectDisposedException">The host is disposed.</exception>
    public ModelLease Lease() => new(AcquireCurrent());

    /// <summary>
    /// Loads a candidate from bytes and deploys it if it passes the canary: it must load, take exactly
    /// <see cref="Features"/>, give finite outputs on every canary row (and holdout row), and, with a holdout, keep
    /// each labelled task's AUC within <see cref="ModelHostOptions.MaxAucDrop"/> of the serving model's. A refused
    /// candidate is disposed and the serving model keeps serving; an accepted one becomes current and the model it
    /// replaces becomes <see cref="Previous"/>.
    /// </summary>
    /// <returns>Accepted, or refused with <see cref="DeployResult.Failure"/> and a message naming the failed check.</returns>
    /// <exception cref="ArgumentException">The canary's rows or labels do not fit <see cref="Features"/> (a caller
    /// error, not the candidate's).</exception>
    /// <exception cref="ObjectDisposedException">The host is disposed.</exception>
    public DeployResult TryDeploy(byte[] model, string version, Canary canary)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(canary);
        return Deploy(version, _ => canary, () => OnnxScorer.Load(model, source: $"model {version}"));
    }

    /// <summary>
    /// As <see cref="TryDeploy(byte[], string, Canary)"/> for a host whose models bring their own features:
    /// <paramref name="canaryFor"/> builds the canary for a list of features (rows in that order). It is called with the
    /// candidate's features, and, when the canary has a holdout and the serving model takes other features, once more
    /// with the serving model's: both calls must describe the same customers and labels, so the two AUCs compare.
    /// </summary>
    /// <exception cref="InvalidOperationException">The host has fixed features (use the other overload).</exception>
    public DeployResult TryDeploy(byte[] model, string version, Func<IReadOnlyList<string>, Canary> canaryFor)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(canaryFor);
        if (features is not null)
        {
            throw new InvalidOperationException("this host has fixed features: deploy with a Canary");
        }

        return Deploy(version, canaryFor, () => OnnxScorer.Load(model, source: $"model {version}"));
    }

    /// <summary>As <see cref="TryDeploy(byte[], string, Canary)"/>, reading the model from <paramref name="path"/>
    /// (a missing or unreadable file is refused as <see cref="DeployFailure.LoadError"/>).</summary>
    public DeployResult TryDeploy(string path, string version, Canary canary)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(canary);
        return Deploy(version, _ => canary, () => OnnxScorer.Load(path));
    }

    /// <summary>
    /// Records a candidate the caller refused before offering it to the host (e.g. its features are not computed
    /// where it would serve), so <see cref="History"/> tells the whole story; returns the refusal.
    /// </summary>
    public DeployResult Refuse(string version, DeployFailure failure, string detail)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        ArgumentNullException.ThrowIfNull(detail);
        lock (gate)
        {
            return Refuse(version, failure, detail, []);
        }
    }

    /// <summary>Takes the serving model out of service and serves the previous one again. Only one level is kept:
    /// afterwards there is no previous model until the next deploy.</summary>
    /// <param name="reason">Why, for the history; optional.</param>
    /// <returns>The model now serving.</returns>
    /// <exception cref="InvalidOperationException">There is no previous model to return to.</exception>
    /// <exception cref="ObjectDisposedException">The host is disposed.</exception>
    public ServedModel Rollback(string? reason = null)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            var from = current;
            var to = previous;
            if (from is null || to is null)
            {
                throw new InvalidOperationException(from is null
                    ? "cannot roll back: no model has been deployed"
                    : $"cannot roll back: model {from.Version} is serving and there is no previous model to return to");
            }

            Volatile.Write(ref current, to);
            previous = null;
            from.Release();
            string message = $"model {from.Version} rolled back; model {to.Version} serves again"
                + (string.IsNullOrWhiteSpace(reason) ? "" : $": {reason}");
            Record(ModelEvent.RolledBack, from.Version, message);
            return to;
        }
    }

    /// <summary>Lets go of the current and previous models (each disposed once its in-flight calls finish).</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            // Set before clearing current, so a caller that finds no model reports disposal, not "nothing deployed".
            disposed = true;
            var serving = current;
            var kept = previous;
            Volatile.Write(ref current, null);
            previous = null;
            serving?.Release();
            kept?.Release();
        }
    }

    private ServedModel AcquireCurrent()
    {
        while (true)
        {
            var model = Volatile.Read(ref current);
            if (model is null)
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                throw new InvalidOperationException("no model is deployed yet");
            }

            if (model.TryAcquire())
            {
                return model;
            }

            // Its last reference went between our read and our acquire, which the host only allows after it has
            // published the replacement: read again.
        }
    }

    private DeployResult Deploy(string version, Func<IReadOnlyList<string>, Canary> canaryFor, Func<OnnxScorer> load)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);

        // With fixed features the canary is the caller's to get right: check it before touching the candidate.
        Canary? fixedCanary = null;
        int canaryRows = 0;
        if (features is not null)
        {
            fixedCanary = canaryFor(features);
            canaryRows = CheckCanary(fixedCanary, features.Length);
        }

        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            var serving = current;
            if (serving is not null && serving.Version == version)
            {
                return Refuse(version, DeployFailure.DuplicateVersion, $"version {version} is already serving", []);
            }

            OnnxScorer candidate;
            try
            {
                candidate = load();
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                return Refuse(version, DeployFailure.LoadError, $"could not load it: {ex.Message}", []);
            }

            bool deployed = false;
            try
            {
                if (CheckInputs(candidate) is { } mismatch)
                {
                    return Refuse(version, DeployFailure.ShapeMismatch, mismatch, []);
                }

                IReadOnlyList<string> candidateFeatures = features ?? candidate.Features!;
                var canary = fixedCanary ?? canaryFor(candidateFeatures);
                if (fixedCanary is null)
                {
                    canaryRows = CheckCanary(canary, candidateFeatures.Count);
                }

                if (RunCanaryRows(candidate, canary.Rows, canaryRows) is { } rowFailure)
                {
                    return Refuse(version, rowFailure.Failure, rowFailure.Message, []);
                }

                var aucs = new List<TaskAuc>();
                if (canary.Holdout is { } labelled)
                {
                    // The serving model scores the same customers in its own feature order.
                    var servingHoldout = serving is null || features is not null || SameFeatures(serving.Features, candidateFeatures)
                        ? labelled
                        : canaryFor(serving.Features).Holdout;
                    if (serving is not null && servingHoldout is not null && servingHoldout.Rows.Length / serving.Features.Count != labelled.Rows.Length / candidateFeatures.Count)
                    {
                        throw new ArgumentException("the canaries built for the candidate's and the serving model's features hold different numbers of holdout rows", nameof(canaryFor));
                    }

                    if (CompareAucs(candidate, serving, labelled, servingHoldout, labelled.Rows.Length / candidateFeatures.Count, aucs) is { } aucFailure)
                    {
                        return Refuse(version, aucFailure.Failure, aucFailure.Message, aucs);
                    }
                }

                var model = new ServedModel(candidate, version, time.GetUtcNow(), candidateFeatures);
                var dropped = previous;
                previous = serving;
                Volatile.Write(ref current, model);
                deployed = true;
                dropped?.Release();

                var message = new StringBuilder($"model {version} deployed");
                message.Append(serving is null ? "" : $", replacing {serving.Version}");
                message.Append(CultureInfo.InvariantCulture, $": {canaryRows} canary rows finite");
                foreach (var auc in aucs)
                {
                    message.Append(CultureInfo.InvariantCulture, $"; {auc.Task} AUC {auc.Candidate:0.0000}");
                    message.Append(auc.Serving is { } s ? string.Create(CultureInfo.InvariantCulture, $" ({serving!.Version}: {s:0.0000})") : "");
                }

                Record(ModelEvent.Deployed, version, message.ToString());
                return new DeployResult(version, true, null, message.ToString(), aucs);
            }
            finally
            {
                if (!deployed)
                {
                    candidate.Dispose();
                }
            }
        }
    }

    private string? CheckInputs(OnnxScorer candidate)
    {
        if (features is null)
        {
            // Each model brings its own features: they must be listed, one per input.
            return candidate.Features is null
                ? "its metadata does not list its features, which a host whose models bring their own features needs"
                : candidate.Features.Count != candidate.Inputs
                    ? $"its metadata lists {candidate.Features.Count} features for an input of width {candidate.Inputs}"
                    : null;
        }

        if (candidate.Inputs != features.Length)
        {
            return $"its input has width {candidate.Inputs}, but the host expects {features.Length} features";
        }

        if (candidate.Features is null)
        {
            return options.RequireFeatureNames
                ? "its metadata does not list its features, so they cannot be checked against the host's"
                : null;
        }

        for (int i = 0; i < features.Length; i++)
        {
            if (!string.Equals(candidate.Features[i], features[i], StringComparison.Ordinal))
            {
                return $"feature {i} is '{candidate.Features[i]}' in the model but '{features[i]}' in the host";
            }
        }

        return null;
    }

    /// <summary>Scores each canary row through the single-row path, the one live calls use (this also warms the
    /// candidate's row-scorer pool before it serves).</summary>
    private (DeployFailure Failure, string Message)? RunCanaryRows(OnnxScorer candidate, float[] rows, int count)
    {
        int width = candidate.Inputs;
        var output = new float[candidate.OutputWidth];
        for (int r = 0; r < count; r++)
        {
            try
            {
                candidate.Score(rows.AsSpan(r * width, width), output);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return (DeployFailure.RuntimeError, $"scoring failed on canary row {r}: {ex.Message}");
            }

            int offset = 0;
            foreach (var o in candidate.Outputs)
            {
                for (int j = 0; j < o.Width; j++)
                {
                    if (!float.IsFinite(output[offset + j]))
                    {
                        return (DeployFailure.NonFiniteOutput, $"{Describe(o, j)} produced {Describe(output[offset + j])} on canary row {r}");
                    }
                }

                offset += o.Width;
            }
        }

        return null;
    }

    private (DeployFailure Failure, string Message)? CompareAucs(
        OnnxScorer candidate, ServedModel? serving, CanaryHoldout holdout, CanaryHoldout? servingHoldout, int rows, List<TaskAuc> aucs)
    {
        float[][] scores;
        try
        {
            scores = candidate.ScoreRows(holdout.Rows); // as served: one customer per call
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return (DeployFailure.RuntimeError, $"scoring the holdout failed: {ex.Message}");
        }

        // Non-finite scores anywhere would make the AUC meaningless, and show the model is broken on real rows.
        for (int i = 0; i < scores.Length; i++)
        {
            var o = candidate.Outputs[i];
            for (int k = 0; k < scores[i].Length; k++)
            {
                if (!float.IsFinite(scores[i][k]))
                {
                    return (DeployFailure.NonFiniteOutput, $"{Describe(o, k % o.Width)} produced {Describe(scores[i][k])} on holdout row {k / o.Width}");
                }
            }
        }

        // Under the gate the serving model cannot be released, so its scorer is safe to use without a reference.
        float[][]? servingScores = serving is null || servingHoldout is null ? null : serving.Scorer.ScoreRows(servingHoldout.Rows);
        var failures = new List<string>();
        foreach (var (task, labels) in holdout.Labels.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            int index = IndexOf(candidate.Outputs, task);
            if (index < 0 || candidate.Outputs[index].Width != 1)
            {
                return (DeployFailure.ShapeMismatch, $"the holdout labels task {task}, but the model has no output {task} of width 1");
            }

            double candidateAuc = Auc.Compute(scores[index], labels);
            double? servingAuc = null;
            int servingIndex = serving is null ? -1 : IndexOf(serving.Outputs, task);
            if (servingIndex >= 0 && servingScores is not null && serving!.Outputs[servingIndex].Width == 1)
            {
                servingAuc = Auc.Compute(servingScores![servingIndex], labels);
            }

            var auc = new TaskAuc(task, candidateAuc, servingAuc);
            aucs.Add(auc);
            if (auc.Drop > options.MaxAucDrop)
            {
                failures.Add(string.Create(
                    CultureInfo.InvariantCulture,
                    $"task {task} AUC {candidateAuc:0.0000} on the holdout ({rows} rows) vs {servingAuc:0.0000} for serving model {serving!.Version}: a drop of {auc.Drop:0.0000}, more than the allowed {options.MaxAucDrop:0.0000}"));
            }
        }

        return failures.Count == 0 ? null : (DeployFailure.AucDrop, string.Join("; ", failures));
    }

    private DeployResult Refuse(string version, DeployFailure failure, string detail, IReadOnlyList<TaskAuc> aucs)
    {
        string message = $"model {version} refused: {detail}";
        Record(ModelEvent.Refused, version, message);
        return new DeployResult(version, false, failure, message, aucs);
    }

    private void Record(ModelEvent kind, string version, string message)
    {
        history.Enqueue(new ModelHistoryEntry(time.GetUtcNow(), kind, version, message));
        while (history.Count > options.HistoryCapacity)
        {
            history.Dequeue();
        }
    }

    private static int CheckCanary(Canary canary, int width)
    {
        ArgumentNullException.ThrowIfNull(canary);
        int canaryRows = RowCount(canary.Rows, width, nameof(canary), "canary rows");
        if (canary.Holdout is { } holdout)
        {
            int holdoutRows = RowCount(holdout.Rows, width, nameof(canary), "holdout rows");
            foreach (var (task, labels) in holdout.Labels)
            {
                if (labels.Length != holdoutRows)
                {
                    throw new ArgumentException($"holdout has {holdoutRows} rows but {labels.Length} labels for task {task}", nameof(canary));
                }
            }
        }

        return canaryRows;
    }

    private static bool SameFeatures(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (int i = 0; i < a.Count; i++)
        {
            if (!string.Equals(a[i], b[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private static int RowCount(float[] rows, int width, string paramName, string what)
    {
        if (rows.Length == 0 || rows.Length % width != 0)
        {
            throw new ArgumentException($"{what} hold {rows.Length} values, not a positive multiple of the host's {width} features", paramName);
        }

        return rows.Length / width;
    }

    private static int IndexOf(IReadOnlyList<ScorerOutput> outputs, string name)
    {
        for (int i = 0; i < outputs.Count; i++)
        {
            if (string.Equals(outputs[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static string Describe(ScorerOutput output, int index) =>
        output.Width == 1 ? $"task {output.Name}" : $"task {output.Name} (output {index} of {output.Width})";

    private static string Describe(float value) =>
        float.IsNaN(value) ? "NaN" : value > 0 ? "+Infinity" : "-Infinity";
}
