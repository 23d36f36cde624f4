using System.Collections.Concurrent;
using System.Threading.Channels;
using EdgeProfile.Contracts.V1;

namespace EdgeProfile.Hub.Federation;

/// <summary>
/// The participants connected to this hub (one Join stream each) and the tasks sent to them that are still open. A task
/// ends with the participant's submission, at its deadline, or when the participant's stream ends (dropped): so a
/// killed store is noticed at once, not at the round timeout. A submission for a task that has ended is a straggler's:
/// refused and counted against its round.
/// </summary>
internal sealed class ParticipantDirectory
{
    private const int ClosedKept = 10_000;

    private readonly ConcurrentDictionary<string, Connection> _connected = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, OpenTask> _open = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string JobId, int Round, string Client)> _closed = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _closedOrder = new();

    /// <summary>Raised for an update that arrived after its task ended: job, round, client.</summary>
    public event Action<string, int, string>? Straggler;

    /// <summary>Ids of the participants connected now.</summary>
    public IReadOnlyList<string> Connected => _connected.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Registers a participant's Join stream (a newer stream of the same participant replaces the older).</summary>
    public Connection Register(string clientId)
    {
        var connection = new Connection(clientId, Channel.CreateUnbounded<FlTask>(new UnboundedChannelOptions { SingleReader = true }));
        _connected.AddOrUpdate(clientId, connection, (_, old) =>
        {
            old.Tasks.Writer.TryComplete();
            return connection;
        });
        return connection;
    }

    /// <summary>Removes a participant's stream; its open tasks end as dropped.</summary>
    public void Unregister(Connection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (_connected.TryRemove(new KeyValuePair<string, Connection>(connection.ClientId, connection)))
        {
            connection.Tasks.Writer.TryComplete();
        }
        foreach (var (id, task) in _open)
        {
            if (task.Connection == connection)
            {
                task.Answer.TrySetResult(null);
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="task"/> to <paramref name="clientId"/> and waits for its answer until
    /// <paramref name="deadline"/>. Null when the participant is not connected, went away, or did not answer in time.
    /// </summary>
    public async Task<FlSubmission?> AskAsync(string clientId, FlTask task, DateTimeOffset deadline, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(time);
        if (!_connected.TryGetValue(clientId, out var connection))
        {
            return null;
        }
        var open = new OpenTask(task.JobId, task.Round, clientId, connection);
        _open[task.TaskId] = open;
        try
        {
            if (!connection.Tasks.Writer.TryWrite(task))
            {
                return null;
            }
            var wait = deadline - time.GetUtcNow();
            if (wait <= TimeSpan.Zero)
            {
                return null;
            }
            try
            {
                return await open.Answer.Task.WaitAsync(wait, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return null;
            }
        }
        finally
        {
            _open.TryRemove(task.TaskId, out _);
            _closed[task.TaskId] = (task.JobId, task.Round, clientId);
            _closedOrder.Enqueue(task.TaskId);
            while (_closedOrder.Count > ClosedKept && _closedOrder.TryDequeue(out var old))
            {
                _closed.TryRemove(old, out _);
            }
        }
    }

    /// <summary>Routes a submission to its open task. False (and a <see cref="Straggler"/> event) when the task has ended.</summary>
    public bool Submit(string clientId, FlSubmission submission)
    {
        ArgumentNullException.ThrowIfNull(submission);
        if (_open.TryGetValue(submission.TaskId, out var open) && open.Client == clientId)
        {
            return open.Answer.TrySetResult(submission);
        }
        if (_closed.TryGetValue(submission.TaskId, out var closed) && closed.Client == clientId)
        {
            Straggler?.Invoke(closed.JobId, closed.Round, clientId);
        }
        return false;
    }

    /// <summary>One participant's Join stream.</summary>
    internal sealed record Connection(string ClientId, Channel<FlTask> Tasks);

    private sealed record OpenTask(string JobId, int Round, string Client, Connection Connection)
    {
        public TaskCompletionSource<FlSubmission?> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
