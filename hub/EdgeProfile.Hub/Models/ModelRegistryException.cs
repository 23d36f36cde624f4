namespace EdgeProfile.Hub.Models;

/// <summary>Why the registry refused a request; the message is for the operator and names what to fix.</summary>
internal sealed class ModelRegistryException(ModelRegistryError error, string message) : Exception(message)
{
    public ModelRegistryError Error { get; } = error;
}

/// <summary>Kinds of refusal, mapped to HTTP 400, 404 and 409.</summary>
internal enum ModelRegistryError
{
    Invalid,
    NotFound,
    Conflict,
}
