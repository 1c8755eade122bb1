package mlflowapi

import (
	"context"
	"net/url"
)

// Registry and lookup routes `pull` resolves a model URI with.
const (
	PathGetModelVersionByAlias = "/api/2.0/mlflow/registered-models/alias"
	PathGetLatestVersions      = "/api/2.0/mlflow/registered-models/get-latest-versions"
	PathGetRun                 = "/api/2.0/mlflow/runs/get"
	PathGetLoggedModel         = "/api/2.0/mlflow/logged-models/"
)

// GetModelVersionByAlias reads the version an alias points at. MLflow
// answers an unknown alias with 400 INVALID_PARAMETER_VALUE, not 404.
func (c *Client) GetModelVersionByAlias(ctx context.Context, name, alias string) (ModelVersion, error) {
	var r getModelVersionResponse
	err := c.getJSON(ctx, PathGetModelVersionByAlias, url.Values{"name": {name}, "alias": {alias}}, &r)
	return r.ModelVersion, err
}

type getLatestVersionsRequest struct {
	Name   string   `json:"name"`
	Stages []string `json:"stages,omitempty"`
}

type getLatestVersionsResponse struct {
	ModelVersions []ModelVersion `json:"model_versions"`
}

// GetLatestVersions is the newest version per stage (all stages when none
// are given): what models:/name/<stage> and models:/name/latest load.
func (c *Client) GetLatestVersions(ctx context.Context, name string, stages []string) ([]ModelVersion, error) {
	var r getLatestVersionsResponse
	err := c.postJSON(ctx, PathGetLatestVersions, getLatestVersionsRequest{Name: name, Stages: stages}, &r)
	return r.ModelVersions, err
}

type getRunResponse struct {
	Run Run `json:"run"`
}

// GetRun reads one run (its artifact URI resolves runs:/ sources).
func (c *Client) GetRun(ctx context.Context, runID string) (Run, error) {
	var r getRunResponse
	err := c.getJSON(ctx, PathGetRun, url.Values{"run_id": {runID}}, &r)
	return r.Run, err
}

// LoggedModel is the part of an MLflow 3 logged model `pull` reads.
type LoggedModel struct {
	ModelID     string `json:"model_id"`
	ArtifactURI string `json:"artifact_uri"`
}

type getLoggedModelResponse struct {
	Model struct {
		Info LoggedModel `json:"info"`
	} `json:"model"`
}

// GetLoggedModel reads a logged model (models:/m-... version sources).
func (c *Client) GetLoggedModel(ctx context.Context, modelID string) (LoggedModel, error) {
	var r getLoggedModelResponse
	err := c.getJSON(ctx, PathGetLoggedModel+url.PathEscape(modelID), nil, &r)
	return r.Model.Info, err
}
